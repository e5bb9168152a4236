#include "tool_docs.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "mtls_probe/diagnosis/verdict.h"
#include "tool_cli.h"

namespace mtls_probe::tool {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The command line as the tool defines it, with batch's options (as the docs generator builds it).
struct FullApp {
  CLI::App app;
  CommandLine cl;
  FullApp() { define_command_line(app, cl, true); }
  const CLI::Option& option(const std::string& name, const char* sub = nullptr) {
    const CLI::App& cmd = sub != nullptr ? *app.get_subcommand(sub) : app;
    return *cmd.get_option(name);
  }
};

TEST(Docs, RoffEscapesMinusBackslashAndControlLines) {
  EXPECT_EQ(roff_escape("--p12 a\\b"), "\\-\\-p12 a\\eb");
  EXPECT_EQ(roff_escape(".hidden"), "\\&.hidden");
  EXPECT_EQ(roff_escape("'quote"), "\\&'quote");
  EXPECT_EQ(roff_escape("plain text"), "plain text");
}

TEST(Docs, ValueKindsOfTheToolsOptions) {
  FullApp f;
  EXPECT_EQ(value_kind(f.option("--p12")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--cacert")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--cert")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--key")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--p12-password-file")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--capath")), ValueKind::directory);
  EXPECT_EQ(value_kind(f.option("--p12-password-env")), ValueKind::other);
  EXPECT_EQ(value_kind(f.option("--connect-timeout")), ValueKind::other);
  EXPECT_EQ(value_kind(f.option("--cert-type")), ValueKind::other);
  EXPECT_EQ(value_kind(f.option("--json")), ValueKind::none);
  EXPECT_EQ(value_kind(f.option("--output")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--max-filesize")), ValueKind::other);
  EXPECT_EQ(value_kind(f.option("--write-out")), ValueKind::other);
  EXPECT_EQ(value_kind(f.option("--head")), ValueKind::none);
  EXPECT_EQ(value_kind(f.option("--client-ca", "serve")), ValueKind::file);
  EXPECT_EQ(value_kind(f.option("--pki-dir", "serve")), ValueKind::directory);
  EXPECT_EQ(value_kind(f.option("--client-auth-path", "serve")), ValueKind::other);  // a URL path
  EXPECT_EQ(value_kind(f.option("--junit", "batch")), ValueKind::file);
}

TEST(Docs, HelpEndsWithTheExamples) {
  FullApp f;
  const std::string help = f.app.help();
  ASSERT_TRUE(contains(help, "Examples:\n")) << help;
  EXPECT_LT(help.find("Examples:"), help.find("Exit codes:"));
  for (const auto& e : usage_examples()) EXPECT_TRUE(contains(help, std::string(e.command))) << e.command;
  int commands_shown = 0;
  for (const char* sub :
       {"mtls-probe inspect ", "mtls-probe serve ", "mtls-probe batch ", "--json ", "--p12-password-env "}) {
    commands_shown += contains(examples_text(), sub);
  }
  EXPECT_EQ(commands_shown, 5);
}

TEST(Docs, ManPageHasEveryOptionOfEveryCommand) {
  FullApp f;
  const std::string page =
      man_page(f.app, "head\n@SYNOPSIS@\n@OPTIONS@\n@COMMANDS@\n@EXIT_STATUS@\n@EXAMPLES@\n");
  EXPECT_EQ(page.rfind("head\n", 0), 0u);
  EXPECT_FALSE(contains(page, "@"));
  std::vector<const CLI::App*> commands{&f.app};
  for (const CLI::App* sub : f.app.get_subcommands({})) commands.push_back(sub);
  for (const CLI::App* cmd : commands) {
    for (const CLI::Option* o : cmd->get_options()) {
      for (const auto& l : o->get_lnames())
        EXPECT_TRUE(contains(page, "\\fB\\-\\-" + roff_escape(l) + "\\fR")) << cmd->get_name() << " --" << l;
    }
    if (cmd != &f.app) {
      EXPECT_TRUE(contains(page, ".SS \"mtls\\-probe " + cmd->get_name() + "\""));
    }
  }
  // The value's name: from the description where the option has no type name of its own.
  EXPECT_TRUE(contains(page, "\\fB\\-E\\fR, \\fB\\-\\-cert\\fR \\fIFILE[:PASSWORD]\\fR"));
  EXPECT_TRUE(contains(page, "\\fB\\-\\-p12\\-password\\-env\\fR \\fIVAR\\fR"));
  EXPECT_TRUE(contains(page, "\\fB\\-\\-resolve\\fR \\fIHOST:PORT:ADDR[,ADDR]\\fR"));
  EXPECT_TRUE(contains(page, "\\fB\\-\\-connect\\-timeout\\fR \\fISECONDS\\fR"));
  EXPECT_TRUE(contains(page, "\\fB\\-\\-p12\\fR \\fIFILE\\fR"));
  EXPECT_TRUE(contains(page, "\\fB\\-\\-cert\\-type\\fR \\fIVALUE\\fR"));
  EXPECT_TRUE(contains(page, ".SS \"Client identity\""));
  EXPECT_TRUE(contains(page, "\\fBmtls\\-probe inspect\\fR [\\fIOPTIONS\\fR] \\fIFILE\\fR"));
  for (Verdict v : all_verdicts()) {
    EXPECT_TRUE(
        contains(page, ".B " + std::to_string(exit_code(v)) + "\n\\fB" + roff_escape(verdict_name(v))))
        << verdict_name(v);
  }
  EXPECT_EQ(all_verdicts().size(), 13u);  // 0 ok .. 12 proxy-error
}

TEST(Docs, BatchNamesTheProbeOptionsOnceAndItsOwnOnes) {
  FullApp f;
  const std::string page = man_page(f.app, "@COMMANDS@\n");
  const std::string batch = page.substr(page.find(".SS \"mtls\\-probe batch\""));
  EXPECT_TRUE(contains(batch, "\\-\\-parallel"));
  EXPECT_TRUE(contains(batch, "JSON Lines"));  // its own --json description
  // the probe's, described in OPTIONS and only named here
  EXPECT_FALSE(contains(batch, "\\fB\\-\\-p12\\-password\\-env\\fR \\fIVAR"));
  EXPECT_TRUE(contains(batch, "The probe's options, as described above: \\fB\\-\\-p12\\fR, "));
  // serve's and inspect's options of the same name are their own (another group, another type name)
  const std::string others = page.substr(0, page.find(".SS \"mtls\\-probe batch\""));
  EXPECT_FALSE(contains(others, "The probe's options"));
  EXPECT_TRUE(contains(others, "\\fB\\-\\-client\\-auth\\fR \\fI{require,optional,"));
  EXPECT_TRUE(contains(others, "\\fB\\-\\-port\\fR \\fINUM\\fR"));
}

TEST(Docs, VersionIsSubstitutedAndProseKept) {
  CLI::App app;
  EXPECT_EQ(man_page(app, ".TH X 1 \"\" \"mtls\\-probe @VERSION@\"\nprose \\- kept"),
            std::string(".TH X 1 \"\" \"mtls\\-probe ") + MTLS_PROBE_VERSION + "\"\nprose \\- kept\n");
}

// An option someone adds to the command line is in the man page and both completions without an edit here.
TEST(Docs, ANewOptionAppearsEverywhere) {
  FullApp f;
  std::string value;
  f.app.add_option("--brand-new-thing", value, "a new FILE option")->group("HTTP");
  EXPECT_TRUE(contains(man_page(f.app, "@OPTIONS@\n"), "\\fB\\-\\-brand\\-new\\-thing\\fR \\fIFILE\\fR"));
  const std::string bash = bash_completion(f.app);
  EXPECT_TRUE(contains(bash, " --brand-new-thing "));
  EXPECT_TRUE(contains(zsh_completion(f.app),
                       "'(--brand-new-thing)--brand-new-thing[a new FILE option]:FILE:_files'"));
}

TEST(Docs, BashCompletionKnowsFileOptionsAndSubcommands) {
  FullApp f;
  const std::string bash = bash_completion(f.app);
  EXPECT_TRUE(contains(bash, "complete -F _mtls_probe mtls-probe\n"));
  EXPECT_TRUE(contains(bash, "local commands='serve inspect batch'"));
  const std::string probe =
      bash.substr(bash.find("    '') "), bash.find("    serve) ") - bash.find("    '') "));
  EXPECT_TRUE(contains(probe, "files=' --p12 --p12-password-file -E --cert --key --pkcs11-module --pin-file --cacert "));
  EXPECT_TRUE(contains(probe, "dirs=' --capath "));
  EXPECT_TRUE(contains(probe, " --proxy-capath "));
  EXPECT_FALSE(contains(probe, "--pki-dir"));  // serve's, not the probe's
}

TEST(Docs, ZshCompletionQuotesDescriptions) {
  FullApp f;
  const std::string zsh = zsh_completion(f.app);
  EXPECT_EQ(zsh.rfind("#compdef mtls-probe\n", 0), 0u);
  // "the server's CA list" holds a quote; brackets in a description would end _arguments' explanation.
  EXPECT_TRUE(contains(zsh, "server'\\''s CA list"));
  EXPECT_TRUE(contains(zsh,
                       "'(-E --cert)-E[client certificate FILE(:PASSWORD) (PEM, or P12 with --cert-type "
                       "P12), or a PKCS#11 URI '\\''pkcs11:token=...;object=...'\\'' (RFC 7512) for a certificate "
                       "on a token]:FILE(\\:PASSWORD):_files'"));
  EXPECT_TRUE(contains(zsh, "'*-H[extra header"));
  EXPECT_TRUE(contains(zsh, "    batch) found=_mtls_probe_batch; break ;;\n"));
}

}  // namespace
}  // namespace mtls_probe::tool
