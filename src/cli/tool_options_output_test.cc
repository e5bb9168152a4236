// -o, --max-filesize, -i, -I, -w on the command line, and -o's file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>

#include "body_file.h"
#include "tool_options.h"
#include "tool_test_support.h"

namespace mtls_probe::tool {
namespace {

TEST(OutputOptions, ParseFilesize) {
  EXPECT_EQ(parse_filesize("0"), std::optional<std::uint64_t>(0));
  EXPECT_EQ(parse_filesize("1000"), std::optional<std::uint64_t>(1000));
  EXPECT_EQ(parse_filesize("1k"), std::optional<std::uint64_t>(1024));
  EXPECT_EQ(parse_filesize("2K"), std::optional<std::uint64_t>(2048));
  EXPECT_EQ(parse_filesize("3M"), std::optional<std::uint64_t>(3ull << 20));
  EXPECT_EQ(parse_filesize("1G"), std::optional<std::uint64_t>(1ull << 30));
  EXPECT_EQ(parse_filesize("2T"), std::optional<std::uint64_t>(2ull << 40));
  EXPECT_EQ(parse_filesize("18446744073709551615"), std::optional<std::uint64_t>(18446744073709551615ull));
  for (const char* bad :
       {"", "k", "-1", "1.5M", "10MB", "1 k", "18446744073709551616", "17179869184G", "0x10"})
    EXPECT_FALSE(parse_filesize(bad)) << bad;
}

TEST(OutputOptions, DefaultsChangeNothing) {
  const ProbeCommand c = parse({"https://example.test/"});
  ASSERT_FALSE(c.usage_error);
  EXPECT_EQ(c.output_file, "");
  EXPECT_FALSE(c.include_headers);
  EXPECT_EQ(c.write_out, "");
  EXPECT_EQ(c.target.http.method, "GET");
  EXPECT_FALSE(c.target.http.max_filesize);
  EXPECT_FALSE(c.target.http.body_sink);  // opened by the front end, never here
}

TEST(OutputOptions, OutputAndMaxFilesize) {
  const ProbeCommand c = parse({"-o", "out.bin", "--max-filesize", "10M", "https://example.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.output_file, "out.bin");
  EXPECT_EQ(c.target.http.max_filesize, std::optional<std::uint64_t>(10u << 20));
  EXPECT_FALSE(
      parse({"--output=x", "--max-filesize", "0", "https://example.test/"}).target.http.max_filesize);
  EXPECT_TRUE(parse({"-o", "x", "--max-filesize", "ten", "https://example.test/"}).usage_error);
  EXPECT_TRUE(parse({"--max-filesize", "10", "https://example.test/"}).usage_error);  // without -o
}

TEST(OutputOptions, StdoutBodyExcludesJson) {
  EXPECT_FALSE(parse({"-o", "-", "https://example.test/"}).usage_error);
  const ProbeCommand c = parse({"-o", "-", "--json", "https://example.test/"});
  ASSERT_TRUE(c.usage_error);
  EXPECT_NE(c.usage_error->find("--json"), std::string::npos);
}

TEST(OutputOptions, HeadAndInclude) {
  EXPECT_TRUE(parse({"-i", "https://example.test/"}).include_headers);
  const ProbeCommand head = parse({"-I", "https://example.test/"});
  ASSERT_FALSE(head.usage_error);
  EXPECT_EQ(head.target.http.method, "HEAD");
  EXPECT_TRUE(head.include_headers);  // -I implies -i, as curl
  EXPECT_EQ(parse({"--head", "https://example.test/"}).target.http.method, "HEAD");
  EXPECT_TRUE(parse({"-I", "-d", "x", "https://example.test/"}).usage_error);
  EXPECT_TRUE(parse({"-I", "-X", "GET", "https://example.test/"}).usage_error);
  EXPECT_TRUE(parse({"-I", "--grpc-health", "https://example.test"}).usage_error);
}

TEST(OutputOptions, WriteOutIsKeptAsGiven) {
  EXPECT_EQ(parse({"-w", "%{http_code}\\n", "https://example.test/"}).write_out, "%{http_code}\\n");
  EXPECT_EQ(parse({"--write-out", "@fmt.txt", "https://example.test/"}).write_out, "@fmt.txt");
}

TEST(BodyFile, WritesWhatItIsGivenAndNamesUnopenableFiles) {
  char dir_template[] = "/tmp/mtls-probe-body-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/out.bin";
  {
    auto sink = open_body_file(path);
    ASSERT_TRUE(sink.has_value());
    EXPECT_TRUE((*sink)->write("hello "));
    EXPECT_TRUE((*sink)->write("world"));
    EXPECT_EQ((*sink)->name(), path);
    EXPECT_EQ((*sink)->error(), "");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(got.str(), "hello world");
  auto bad = open_body_file(std::string(dir_template) + "/no/such/dir/out.bin");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("No such file or directory"), std::string::npos) << bad.error();
  EXPECT_EQ(open_body_file("-").value()->name(), "-");
  unlink(path.c_str());
  rmdir(dir_template);
}

TEST(BodyFile, FullDiskIsAnError) {
  auto sink = open_body_file("/dev/full");
  ASSERT_TRUE(sink.has_value());
  EXPECT_FALSE((*sink)->write("x"));
  EXPECT_NE((*sink)->error().find("No space left"), std::string::npos) << (*sink)->error();
}

}  // namespace
}  // namespace mtls_probe::tool
