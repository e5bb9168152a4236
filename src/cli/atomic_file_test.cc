// AtomicFile: the content appears whole under the final name, nothing is on disk between open() and
// commit() (a killed run leaves no temp file), an unwritable place is an error at open().
#include "cli/atomic_file.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mtls_probe::tool {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/mtls-atomic-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    for (const auto& e : entries()) ::unlink((path + "/" + e).c_str());
    ::rmdir(path.c_str());
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
      }
      ::closedir(d);
    }
    return out;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AtomicFile, WritesWholeAndRenames) {
  TempDir dir;
  const std::string target = dir.path + "/out.prom";
  { std::ofstream(target) << "old\n"; }
  AtomicFile f;
  ASSERT_FALSE(f.open(target));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.prom"});  // no temp file while the run probes
  EXPECT_EQ(slurp(target), "old\n");  // untouched until the commit
  const mode_t old = ::umask(022);
  EXPECT_FALSE(f.commit("new content\n"));
  ::umask(old);
  EXPECT_EQ(slurp(target), "new content\n");
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"out.prom"});  // the temp file is gone
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(AtomicFile, UncommittedLeavesNothing) {
  TempDir dir;
  {
    AtomicFile f;
    ASSERT_FALSE(f.open(dir.path + "/report.xml"));
    EXPECT_TRUE(dir.entries().empty());
  }
  EXPECT_TRUE(dir.entries().empty());
}

TEST(AtomicFile, DirectoryGoneAfterOpenIsAnErrorAtCommit) {
  TempDir dir;
  const std::string sub = dir.path + "/out";
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  AtomicFile f;
  ASSERT_FALSE(f.open(sub + "/out.xml"));
  ASSERT_EQ(::rmdir(sub.c_str()), 0);  // possible only because open() left nothing in it
  auto err = f.commit("x");
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("out.xml"), std::string::npos) << *err;
}

TEST(AtomicFile, UnwritablePlaceIsAnErrorAtOpen) {
  TempDir dir;
  AtomicFile f;
  auto err = f.open(dir.path + "/no-such-dir/out.xml");
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("no-such-dir/out.xml"), std::string::npos) << *err;
  err = f.open(dir.path);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("is a directory"), std::string::npos) << *err;
  EXPECT_TRUE(f.open(""));
  EXPECT_FALSE(f.is_open());
  EXPECT_TRUE(f.commit("x"));
}

}  // namespace
}  // namespace mtls_probe::tool
