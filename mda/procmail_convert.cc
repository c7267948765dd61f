// ProcmailConvert: procmailrc(5) recipes into mda rules, line by line, honest about the rest.
#include "mda/procmail_convert.h"

#include <algorithm>
#include <map>
#include <memory>

#include "mda/config.h"
#include "mda/folder.h"
#include "rules/parser.h"
#include "rules/regex.h"

namespace mda {
namespace {

// procmailrc(5), MISCELLANEOUS.
constexpr std::string_view kToUnderscore =
    "(^((Original-)?(Resent-)?(To|Cc|Bcc)|(X-Envelope|Apparently(-Resent)?)-To):(.*[^-a-zA-Z0-9_.])"
    "?)";
constexpr std::string_view kTo =
    "(^((Original-)?(Resent-)?(To|Cc|Bcc)|(X-Envelope|Apparently(-Resent)?)-To):(.*[^a-zA-Z])?)";
constexpr std::string_view kFromDaemon =
    "(^(Mailing-List:|Precedence:.*(junk|bulk|list)|To: Multiple recipients of "
    "|(((Resent-)?(From|Sender)|X-Envelope-From):|>?From )([^>]*[^(.%@a-z0-9])?"
    "(Post(ma?(st(e?r)?|n)|office)|(send)?Mail(er)?|daemon|m(mdf|ajordomo)|n?uucp"
    "|LIST(SERV|proc)|NETSERV|o(wner|ps)|r(e(quest|sponse)|oot)|b(ounce|bs\\.smtp)|echo"
    "|mirror|s(erv(ices?|er)|mtp(error)?|ystem)|A(dmin(istrator)?|MMGR|utoanswer))"
    "(([^).!:a-z0-9][-_a-z0-9]*)?[%@>\\t ][^<)]*(\\(.*\\).*)?)?$([^>]|$)))";
constexpr std::string_view kFromMailer =
    "(^(((Resent-)?(From|Sender)|X-Envelope-From):|>?From )([^>]*[^(.%@a-z0-9])?"
    "(Post(ma(st(er)?|n)|office)|(send)?Mail(er)?|daemon|mmdf|n?uucp|ops|r(esponse|oot)"
    "|(bbs\\.)?smtp(error)?|s(erv(ices?|er)|ystem)|A(dmin(istrator)?|MMGR))"
    "(([^).!:a-z0-9][-_a-z0-9]*)?[%@>\\t ][^<)]*(\\(.*\\).*)?)?$([^>]|$))";

std::string Trim(std::string_view s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return "";
  size_t b = s.find_last_not_of(" \t");
  return std::string(s.substr(a, b - a + 1));
}

// A control character (other than tab and the line breaks between a recipe's lines): no
// rule can carry it, and no sane procmailrc has one.
bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) return true;
  }
  return false;
}

// Whether mda takes `rule` (one statement) as it is; else why not. The converter's last
// check: whatever it writes, mda parses.
bool Parses(const std::string& rule, std::string* why) {
  rules::RuleSet set;
  rules::ParseOptions options;
  options.settings = Settings();
  Status s = rules::ParseRules("rule", rule, "rule", options, &set);
  if (s.ok()) return true;
  std::string text(s.text());
  *why = "mda would not take it: " + text.substr(0, text.find('\n'));
  return false;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// One logical line of the file: continuation lines (ending in a backslash) joined.
struct Line {
  int number;  // of its first physical line
  std::string text;
  std::string original;  // as written, for the NOT CONVERTED block
};

struct Recipe {
  int line = 0;
  std::string flags;
  bool lock = false;
  std::vector<Line> conditions;
  Line action;
  std::vector<Line> block;  // when the action is "{"
  bool has_block = false;
  std::string original;  // every line of it, for a NOT CONVERTED block
};

class Converter {
 public:
  Converter(std::string path, std::string home,
            const std::function<Status(const std::string&, std::string*)>& read_include, int depth)
      : path_(std::move(path)), home_(std::move(home)), read_include_(read_include), depth_(depth) {
    vars_["HOME"] = home_;
    vars_["MAILDIR"] = home_;  // procmail's default: the home directory
    maildir_root_ = home_ + "/Maildir";
  }

  void Run(std::string_view text, ProcmailConversion* out) {
    out_ = out;
    std::vector<Line> lines = Logical(text);
    size_t i = 0;
    Statements(lines, &i, /*depth=*/0, "");
  }

 private:
  std::vector<Line> Logical(std::string_view text) {
    std::vector<Line> lines;
    int number = 0;
    size_t start = 0;
    Line current{0, "", ""};
    bool continuing = false;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view raw =
          text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      ++number;
      if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);  // a file saved with CRLF
      if (!continuing) current = Line{number, "", ""};
      current.original += (continuing ? "\n" : "") + std::string(raw);
      bool more = !raw.empty() && raw.back() == '\\';
      current.text += std::string(more ? raw.substr(0, raw.size() - 1) : raw);
      continuing = more;
      if (!more) lines.push_back(current);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    if (continuing) lines.push_back(current);
    return lines;
  }

  void Note(int line, const std::string& what) {
    out_->report.push_back(path_ + ":" + std::to_string(line) + ": " + what);
  }

  void NotConverted(int line, const std::string& original, const std::string& why,
                    const std::string& indent) {
    ++out_->not_converted;
    Note(line, "NOT CONVERTED: " + why);
    out_->rules +=
        indent + "# NOT CONVERTED: " + why + " (" + path_ + ":" + std::to_string(line) + ")\n";
    size_t start = 0;
    while (start <= original.size()) {
      size_t nl = original.find('\n', start);
      std::string text = original.substr(start, nl == std::string::npos ? nl : nl - start);
      for (char& c : text) {  // a comment is one line of text: no control character in it
        unsigned char u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7f) c = '?';
      }
      out_->rules += indent + "#   " + text + "\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }

  // $VAR and ${VAR} of the variables known; false when one is not known (or is a
  // procmail-computed one such as $MATCH outside a capture).
  bool Expand(std::string_view in, std::string* out) {
    out->clear();
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '$') {
        *out += in[i];
        continue;
      }
      size_t j = i + 1;
      std::string name;
      if (j < in.size() && in[j] == '{') {
        size_t close = in.find('}', j);
        if (close == std::string_view::npos) return false;
        name = std::string(in.substr(j + 1, close - j - 1));
        i = close;
      } else {
        while (j < in.size() && (isalnum(static_cast<unsigned char>(in[j])) || in[j] == '_'))
          name += in[j++];
        i = j - 1;
      }
      if (name == "MATCH") {
        *out += "${MATCH}";
        continue;
      }
      auto it = vars_.find(name);
      if (name.empty() || it == vars_.end()) return false;
      *out += it->second;
    }
    return true;
  }

  // A value of an assignment: quotes removed; false when it runs a program (backticks).
  bool Value(std::string_view raw, std::string* out) {
    std::string v = Trim(raw);
    if (v.find('`') != std::string::npos) return false;
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    if (raw.find('\'') != std::string_view::npos) {
      *out = v;  // single quotes: literal
      return true;
    }
    return Expand(v, out);
  }

  // A mailbox path as an mda folder; "" and `why` when it is no Maildir++ folder of the
  // Maildir (an mbox file, an MH folder, a Maildir elsewhere).
  std::string Folder(std::string_view raw, std::string* why) {
    std::string path;
    if (!Expand(Trim(raw), &path)) {
      *why = "the mailbox names a variable the converter does not know";
      return "";
    }
    if (path.size() >= 2 && path.substr(path.size() - 2) == "/.") {
      *why = "an MH folder; mda delivers into Maildir folders";
      return "";
    }
    if (path.empty() || path.back() != '/') {
      *why =
          "an mbox file; mda delivers into Maildir folders (convert the mbox, then use "
          "'folder NAME')";
      return "";
    }
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path[0] != '/') path = vars_["MAILDIR"] + "/" + path;
    // Normalise "a/./b" and "a//b".
    std::string norm;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '/' && !norm.empty() && norm.back() == '/') continue;
      norm += path[i];
    }
    if (norm == maildir_root_) return "INBOX";
    std::string prefix = maildir_root_ + "/";
    if (norm.rfind(prefix, 0) == 0) {
      std::string rest = norm.substr(prefix.size());
      if (rest.size() > 1 && rest[0] == '.' && rest.find('/') == std::string::npos) {
        std::string name = rest.substr(1);
        std::replace(name.begin(), name.end(), '.', '/');
        // A name mda would refuse (empty parts, control characters, quotes) is said here,
        // not at delivery. ${MATCH} is checked when it has a value.
        std::string literal = name, dir;
        for (size_t at; (at = literal.find("${MATCH}")) != std::string::npos;)
          literal.replace(at, 8, "x");
        if (literal.find_first_of("\"\\$") != std::string::npos) {
          *why = "a folder name with a quote, a backslash or a $";
          return "";
        }
        if (Status s = FolderDirectory(literal, &dir); !s.ok()) {
          *why = "a folder name mda refuses (" + s.message() + ")";
          return "";
        }
        return name;
      }
      *why = "a Maildir inside the Maildir but not a Maildir++ folder (" + rest +
             "/); mda's folders are .NAME directories";
      return "";
    }
    *why = "a Maildir outside " + maildir_root_ + " (" + norm + "/)";
    return "";
  }

  // A condition line (after '*') as an mda test; "" and `why` when it cannot be.
  std::string Condition(std::string_view raw, const std::string& flags, std::string* why) {
    std::string c = Trim(raw);
    bool negate = false;
    while (!c.empty() && c[0] == '!') {
      negate = !negate;
      c = Trim(c.substr(1));
    }
    if (c.empty()) {
      *why = "an empty condition";
      return "";
    }
    auto wrap = [&](const std::string& test) { return negate ? "not " + test : test; };
    if (c[0] == '$') {
      *why = "a condition with variables expanded ($)";
      return "";
    }
    if (c[0] == '?') {
      *why = "a program's exit code as a condition (?)";
      return "";
    }
    if (c[0] == '<' || c[0] == '>') {
      std::string n = Trim(c.substr(1));
      if (n.empty() || n.size() > 13 || n.find_first_not_of("0123456789") != std::string::npos ||
          !rules::ParseSize(n)) {
        *why = "a size condition without a plain number up to 1 TiB";
        return "";
      }
      return wrap(std::string("size ") + (c[0] == '<' ? "< " : "> ") + n);
    }
    if (isdigit(static_cast<unsigned char>(c[0])) || c[0] == '-') {
      size_t caret = c.find('^');
      if (caret != std::string::npos && caret < 12) {
        *why = "a weighted (scoring) condition";
        return "";
      }
    }
    bool header = flags.find('H') != std::string::npos || flags.find('B') == std::string::npos;
    bool body = flags.find('B') != std::string::npos;
    if (size_t q = c.find("??"); q != std::string::npos) {
      std::string var = Trim(c.substr(0, q));
      c = Trim(c.substr(q + 2));
      if (var == "B") {
        header = false;
        body = true;
      } else if (var == "H") {
        header = true;
        body = false;
      } else if (var == "HB" || var == "BH") {
        header = body = true;
      } else {
        *why = "a condition on the variable " + var;
        return "";
      }
    }
    std::string re = ProcmailRegex(c, why);
    if (re.empty()) return "";
    std::string mods = flags.find('D') != std::string::npos ? "" : "i";
    // egrep is not PCRE: what PCRE would refuse (or read otherwise) is said, not emitted.
    std::unique_ptr<rules::Regex> compiled;
    size_t offset = 0;
    if (Status s = rules::Regex::Compile(re, mods + "m", &compiled, &offset); !s.ok()) {
      *why = "the regex is not one PCRE takes as it is (" + s.message() + ")";
      return "";
    }
    std::string test;
    if (header && body) {
      test = "(headers ~ /" + re + "/" + mods + " or body ~ /" + re + "/" + mods + ")";
    } else if (body) {
      test = "body ~ /" + re + "/" + mods;
    } else {
      test = "headers ~ /" + re + "/" + mods;
    }
    return wrap(test);
  }

  // The action of a recipe, as mda actions; "" and `why` when it cannot be.
  std::string Action(const Recipe& r, std::string* why) {
    std::string a = Trim(r.action.text);
    bool copy = r.flags.find('c') != std::string::npos;
    bool filter = r.flags.find('f') != std::string::npos;
    if (a.empty()) {
      *why = "a recipe without an action";
      return "";
    }
    if (a[0] == '!') {
      std::string list;
      if (!Expand(a.substr(1), &list) || list.find("${MATCH}") != std::string::npos) {
        *why = "forward addresses with variables";
        return "";
      }
      std::string out = copy ? "copy forward" : "forward";
      size_t n = 0;
      for (size_t i = 0; i < list.size();) {
        size_t s = list.find_first_not_of(" \t", i);
        if (s == std::string::npos) break;
        size_t e = list.find_first_of(" \t", s);
        std::string addr = list.substr(s, e == std::string::npos ? e : e - s);
        if (addr[0] == '-') {
          *why = "sendmail options in a forward";
          return "";
        }
        size_t at = addr.rfind('@');
        bool bare = true;
        for (char ch : addr) {
          unsigned char u = static_cast<unsigned char>(ch);
          bare = bare && u > 32 && u != 127 &&
                 std::string_view("<>,\"()$\\'").find(ch) == std::string_view::npos;
        }
        if (at == std::string::npos || at == 0 || at + 1 == addr.size() || addr.size() > 254 ||
            !bare || n >= 32) {
          *why = "a forward address mda does not take as it is (" + addr +
                 "): it needs local@domain, nothing else";
          return "";
        }
        out += " " + Quote(addr);
        ++n;
        i = e == std::string::npos ? list.size() : e;
      }
      if (n == 0) {
        *why = "a forward without an address";
        return "";
      }
      return out;
    }
    if (a[0] == '|') {
      std::string cmd = Trim(a.substr(1));
      // formail: the duplicate check is built in; header edits are actions.
      if (cmd.rfind("formail", 0) == 0 || cmd.find("/formail ") != std::string::npos) {
        return Formail(cmd, r, why);
      }
      std::string expanded;
      if (!Expand(cmd, &expanded)) {
        *why = "a command with variables the converter does not know";
        return "";
      }
      if (r.flags.find('h') != std::string::npos && r.flags.find('b') == std::string::npos) {
        *why = "a program fed only the header (h); mda feeds the whole message";
        return "";
      }
      if (r.flags.find('b') != std::string::npos && r.flags.find('h') == std::string::npos) {
        *why = "a program fed only the body (b); mda feeds the whole message";
        return "";
      }
      std::string args;
      if (expanded.find_first_of("|&;<>()$`\\\"'*?[]~{}#\n") != std::string::npos) {
        // procmail hands such a line to $SHELL -c; so does the rule, by naming the shell.
        args = Quote("/bin/sh") + " " + Quote("-c") + " " + Quote(expanded);
      } else {
        for (size_t i = 0; i < expanded.size();) {
          size_t s = expanded.find_first_not_of(" \t", i);
          if (s == std::string::npos) break;
          size_t e = expanded.find_first_of(" \t", s);
          std::string word = expanded.substr(s, e == std::string::npos ? e : e - s);
          // A relative program: procmail runs it from MAILDIR, its working directory.
          if (args.empty() && word.find('/') != std::string::npos && word[0] != '/')
            word = vars_["MAILDIR"] + "/" + word;
          args += (args.empty() ? "" : " ") + Quote(word);
          i = e == std::string::npos ? expanded.size() : e;
        }
      }
      if (filter) return "filter " + args;
      return (copy ? "copy pipe " : "pipe ") + args;
    }
    if (filter) {
      *why = "a filter recipe (f) without a program";
      return "";
    }
    if (a == "/dev/null") return copy ? "" : "discard";
    std::string folder = Folder(a, why);
    if (folder.empty()) return "";
    return (copy ? "copy " : "folder ") + Quote(folder);
  }

  std::string Formail(const std::string& cmd, const Recipe& r, std::string* why) {
    std::vector<std::string> words;
    for (size_t i = 0; i < cmd.size();) {
      size_t s = cmd.find_first_not_of(" \t", i);
      if (s == std::string::npos) break;
      size_t e;
      std::string w;
      if (cmd[s] == '"' || cmd[s] == '\'') {
        e = cmd.find(cmd[s], s + 1);
        if (e == std::string::npos) {
          *why = "an unterminated quote";
          return "";
        }
        w = cmd.substr(s + 1, e - s - 1);
        ++e;
      } else {
        e = cmd.find_first_of(" \t", s);
        w = cmd.substr(s, e == std::string::npos ? e : e - s);
      }
      words.push_back(w);
      i = e == std::string::npos ? cmd.size() : e;
    }
    if (std::find(words.begin(), words.end(), "-D") != words.end()) {
      return "DUPLICATES";  // the caller drops the recipe with a note
    }
    if (r.flags.find('f') == std::string::npos) {
      *why = "formail without f (a reply or a split)";
      return "";
    }
    std::string actions;
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string& w = words[i];
      if ((w == "-A" || w == "-I") && i + 1 < words.size()) {
        std::string field;
        if (!Expand(words[++i], &field) || field.find("${MATCH}") != std::string::npos) {
          *why = "formail with variables in the header";
          return "";
        }
        size_t colon = field.find(':');
        if (colon == std::string::npos || colon == 0) {
          *why = "formail " + w + " without a 'Name: value'";
          return "";
        }
        std::string name = field.substr(0, colon), value = Trim(field.substr(colon + 1));
        bool plain = true;
        for (char ch : name) plain = plain && ch > ' ' && ch < 127 && ch != ':';
        std::string lower = name;
        for (char& ch : lower) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
        if (!plain || lower == "received" || lower == "return-path" ||
            value.find_first_of("\r\n") != std::string::npos) {
          *why = "formail " + w + " of a header mda does not edit (" + name + ")";
          return "";
        }
        std::string action;
        if (w == "-A") {
          action = "add-header " + Quote(name + ": " + value);
          Note(r.line,
               "formail -A as add-header: mda adds it to what it stores; later "
               "conditions do not see it (formail -I, set-header, they would)");
        } else if (value.empty()) {
          action = "remove-header " + Quote(name);
        } else {
          action = "set-header " + Quote(name + ": " + value);
        }
        actions += (actions.empty() ? "" : " ") + action;
        continue;
      }
      *why = "formail " + w + " (only -A, -I and -D have an mda form)";
      return "";
    }
    if (actions.empty()) {
      *why = "formail with nothing the converter knows";
      return "";
    }
    return actions;
  }

  void Assignment(const Line& line, const std::string& indent) {
    std::string t = Trim(line.text);
    size_t eq = t.find('=');
    std::string name = Trim(t.substr(0, eq));
    std::string value;
    bool literal = Value(t.substr(eq + 1), &value);
    static const char* const kQuiet[] = {"VERBOSE",  "LOGABSTRACT", "COMSAT", "SHELL",  "PATH",
                                         "LOCKFILE", "LOCKTIMEOUT", "UMASK",  "LINEBUF"};
    for (const char* q : kQuiet) {
      if (name == q) {
        Note(line.number, name + " dropped: mda " +
                              (name == "LOCKFILE" || name == "LOCKTIMEOUT"
                                   ? std::string("needs no lock files")
                                   : "has no such setting (and needs none)"));
        return;
      }
    }
    if (!literal) {
      NotConverted(line.number, line.original,
                   "an assignment that runs a program or uses an unknown variable", indent);
      return;
    }
    if (in_block_ > 0 && name != "INCLUDERC") {
      // procmail makes it only when the block runs, and it holds after the block too; mda's
      // settings hold for the whole file.
      NotConverted(line.number, line.original,
                   "an assignment inside a block (procmail makes it only when the block runs)",
                   indent);
      return;
    }
    if (name == "MAILDIR") {
      vars_["MAILDIR"] = value;
      Note(line.number, "MAILDIR: folders below it are read relative to it");
      return;
    }
    if (name == "DEFAULT") {
      std::string folder, why;
      std::string v = value;
      if (!v.empty() && v.back() != '/') v += '/';
      folder = Folder(v, &why);
      vars_["DEFAULT"] = value;
      if (folder == "INBOX") {
        Note(line.number, "DEFAULT is the Maildir's INBOX, mda's default too");
        return;
      }
      NotConverted(line.number, line.original,
                   "DEFAULT other than the Maildir's INBOX (give the transport --folder)", indent);
      return;
    }
    auto plain_path = [](const std::string& v) {
      return !v.empty() && v.find_first_of(" \t\"'#\\$") == std::string::npos;
    };
    if ((name == "LOGFILE" || name == "SENDMAIL") && !plain_path(value)) {
      NotConverted(line.number, line.original, name + " with blanks, quotes or variables", indent);
      return;
    }
    if (name == "SENDMAIL" && value[0] != '/') {
      NotConverted(line.number, line.original, "SENDMAIL without an absolute path", indent);
      return;
    }
    if (std::string why;
        (name == "LOGFILE" || name == "SENDMAIL") &&
        !Parses("set " + std::string(name == "LOGFILE" ? "log" : "sendmail") + " = " + value,
                &why)) {
      NotConverted(line.number, line.original, why, indent);
      return;
    }
    if (name == "LOGFILE") {
      std::string v = value;
      if (v.rfind(home_ + "/", 0) == 0) v = "~/" + v.substr(home_.size() + 1);
      out_->rules += indent + "set log = " + v + "  # " + path_ + ":" +
                     std::to_string(line.number) + " LOGFILE (mda's log has its own format)\n";
      return;
    }
    if (name == "SENDMAIL") {
      out_->rules += indent + "set sendmail = " + value + "  # " + path_ + ":" +
                     std::to_string(line.number) + "\n";
      vars_[name] = value;
      return;
    }
    if (name == "INCLUDERC") {
      Include(line, value, indent);
      return;
    }
    if (name == "EXITCODE" || name == "SWITCHRC" || name == "HOST" || name == "TRAP" ||
        name == "DELIVERED" || name == "LASTFOLDER") {
      NotConverted(line.number, line.original, name + " changes how procmail ends", indent);
      return;
    }
    vars_[name] = value;
    Note(line.number, name + " kept for the expansions below (not a setting of mda)");
  }

  void Include(const Line& line, const std::string& file, const std::string& indent) {
    if (depth_ >= 8) {
      NotConverted(line.number, line.original, "INCLUDERC nested more than 8 deep", indent);
      return;
    }
    std::string path = file;
    if (!path.empty() && path[0] != '/') path = vars_["MAILDIR"] + "/" + path;
    std::string text;
    if (!read_include_ || !read_include_(path, &text).ok()) {
      NotConverted(line.number, line.original, "INCLUDERC " + path + " could not be read", indent);
      return;
    }
    out_->rules += indent + "# " + path_ + ":" + std::to_string(line.number) +
                   " INCLUDERC=" + path + ", converted here:\n";
    Converter inner(path, home_, read_include_, depth_ + 1);
    inner.vars_ = vars_;
    inner.maildir_root_ = maildir_root_;
    inner.in_block_ = in_block_;
    inner.out_ = out_;
    std::vector<Line> lines = inner.Logical(text);
    size_t i = 0;
    inner.Statements(lines, &i, 0, indent);
    vars_ = inner.vars_;
  }

  // The statements of a file or block, up to its closing brace.
  void Statements(const std::vector<Line>& lines, size_t* i, int depth, const std::string& indent) {
    std::string previous_condition;  // for the A flag: the last recipe's, as mda text
    bool previous_ok = false;        // the last recipe was converted (for E and A)
    while (*i < lines.size()) {
      const Line& line = lines[*i];
      std::string t = Trim(line.text);
      if (t.empty() || t[0] == '#') {
        ++*i;
        continue;
      }
      if (t == "}") {
        if (depth > 0) return;
        NotConverted(line.number, line.original, "a '}' without its block", indent);
        previous_ok = false;
        ++*i;
        continue;
      }
      if (t.rfind(":0", 0) == 0) {
        Recipe r;
        if (!ReadRecipe(lines, i, &r)) {
          NotConverted(r.line, r.original, "an incomplete recipe (no action)", indent);
          previous_ok = false;
          continue;
        }
        if (HasControl(r.original)) {
          Fail(r, lines, i, indent, "a control character in the recipe", &previous_ok);
          continue;
        }
        EmitRecipe(r, lines, i, depth, indent, &previous_condition, &previous_ok);
        continue;
      }
      previous_ok = false;  // between the recipes, anything breaks an E or A chain
      if (HasControl(line.original)) {
        NotConverted(line.number, line.original, "a control character in the line", indent);
        ++*i;
        continue;
      }
      size_t eq = t.find('=');
      if (eq != std::string::npos && eq > 0 &&
          t.substr(0, eq).find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_ \t") ==
              std::string::npos) {
        Assignment(line, indent);
        ++*i;
        continue;
      }
      NotConverted(line.number, line.original, "not a recipe or an assignment", indent);
      ++*i;
    }
  }

  bool ReadRecipe(const std::vector<Line>& lines, size_t* i, Recipe* r) {
    const Line& head = lines[*i];
    r->line = head.number;
    r->original = head.original;
    std::string t = Trim(head.text).substr(2);
    size_t colon = t.find(':');
    r->flags = Trim(colon == std::string::npos ? t : t.substr(0, colon));
    r->lock = colon != std::string::npos;
    ++*i;
    while (*i < lines.size()) {
      std::string c = Trim(lines[*i].text);
      if (c.empty() || c[0] == '#') {
        r->original += "\n" + lines[*i].original;
        ++*i;
        continue;
      }
      if (c[0] != '*') break;
      r->conditions.push_back(lines[*i]);
      r->conditions.back().text = c.substr(1);
      r->original += "\n" + lines[*i].original;
      ++*i;
    }
    if (*i >= lines.size()) return false;
    r->action = lines[*i];
    r->original += "\n" + lines[*i].original;
    ++*i;
    std::string a = Trim(r->action.text);
    if (a == "{" || (a.size() > 1 && a[0] == '{' && Trim(a.substr(1)).empty())) {
      r->has_block = true;
      return true;
    }
    if (!a.empty() && a[0] == '{') {
      // "{ action }" on one line is rare; treat the rest as not converted.
      return true;
    }
    return true;
  }

  // `cursor`: just after the recipe's action line (inside its block, when it has one).
  void EmitRecipe(const Recipe& r, const std::vector<Line>& lines, size_t* cursor, int depth,
                  const std::string& indent, std::string* previous_condition, bool* previous_ok) {
    std::string where = path_ + ":" + std::to_string(r.line);
    for (char f : r.flags) {
      if (std::string("HBDAaEecfwWhbir").find(f) == std::string::npos) {
        Fail(r, lines, cursor, indent, std::string("the flag '") + f + "'", previous_ok);
        return;
      }
    }
    if (r.flags.find('e') != std::string::npos || r.flags.find('a') != std::string::npos) {
      // a: "the preceding recipe matched and succeeded" - as A when it could not fail.
      if (r.flags.find('e') != std::string::npos) {
        Fail(r, lines, cursor, indent, "the e flag (after a failed recipe)", previous_ok);
        return;
      }
    }
    bool chained_else = r.flags.find('E') != std::string::npos;
    bool chained_and =
        r.flags.find('A') != std::string::npos || r.flags.find('a') != std::string::npos;
    if ((chained_else || chained_and) && !*previous_ok) {
      Fail(r, lines, cursor, indent, "an E or A recipe after one that was not converted to a rule",
           previous_ok);
      return;
    }
    std::vector<std::string> tests;
    for (const Line& c : r.conditions) {
      std::string why;
      std::string test = Condition(c.text, r.flags, &why);
      if (test.empty()) {
        Fail(r, lines, cursor, indent, why, previous_ok);
        return;
      }
      tests.push_back(test);
    }
    std::string condition;
    for (const std::string& t : tests) condition += (condition.empty() ? "" : " and ") + t;
    if (chained_and && !previous_condition->empty()) {
      condition = condition.empty() ? *previous_condition
                                    : "(" + *previous_condition + ") and " + condition;
    }
    if (condition.empty()) condition = "size >= 0";  // no condition: every message
    if (r.lock) Note(r.line, "lock dropped: mda needs no lock files");
    if (r.flags.find('w') != std::string::npos || r.flags.find('W') != std::string::npos)
      Note(r.line, "w/W: mda always waits for the program and acts on its exit code");
    std::string keyword = chained_else ? "else if " : "if ";
    if (std::string why; !Parses("if " + condition + " then discard", &why)) {
      Fail(r, lines, cursor, indent, why, previous_ok);
      return;
    }
    if (r.has_block) {
      out_->rules += indent + "# " + where + "\n" + indent + keyword + condition + " then {\n";
      ++in_block_;
      Statements(lines, cursor, depth + 1, indent + "    ");
      --in_block_;
      if (*cursor < lines.size() && Trim(lines[*cursor].text) == "}") ++*cursor;
      out_->rules += indent + "}\n";
      if (r.flags.find('c') != std::string::npos)
        Note(r.line, "c on a block: its deliveries are copies only if its rules say copy");
      *previous_condition = condition;
      *previous_ok = true;
      return;
    }
    std::string why;
    std::string action = Action(r, &why);
    if (action == "DUPLICATES") {
      out_->rules += indent + "# " + where +
                     ": formail -D dropped: mda's duplicate check is "
                     "built in and on (set dedup = 7d)\n";
      Note(r.line, "formail -D dropped: mda's duplicate check is built in");
      *previous_ok = false;  // nothing written: an E or A after it has no rule to follow
      return;
    }
    if (action.empty() && why.empty()) {  // a copy to /dev/null: nothing at all
      Note(r.line, "a copy to /dev/null does nothing; left out");
      *previous_ok = false;  // nothing written: an E or A after it has no rule to follow
      return;
    }
    if (action.empty() || !Parses("if size >= 0 then " + action, &why)) {
      Fail(r, lines, cursor, indent, why, previous_ok);
      return;
    }
    out_->rules +=
        indent + "# " + where + "\n" + indent + keyword + condition + " then " + action + "\n";
    *previous_condition = condition;
    *previous_ok = true;
  }

  void Fail(const Recipe& r, const std::vector<Line>& lines, size_t* cursor,
            const std::string& indent, const std::string& why, bool* previous_ok) {
    std::string original = r.original;
    if (r.has_block) {
      // The block goes with it, every line of it, as written.
      int open = 1;
      while (*cursor < lines.size() && open > 0) {
        std::string t = Trim(lines[*cursor].text);
        if (t == "}") --open;
        if (t == "{") ++open;
        original += "\n" + lines[*cursor].original;
        ++*cursor;
      }
    }
    NotConverted(r.line, original, why, indent);
    *previous_ok = false;
  }

  std::string path_, home_;
  const std::function<Status(const std::string&, std::string*)>& read_include_;
  int depth_;
  std::map<std::string, std::string> vars_;
  std::string maildir_root_;
  int in_block_ = 0;  // inside how many blocks (assignments there are conditional)
  ProcmailConversion* out_ = nullptr;
};

}  // namespace

std::string ProcmailRegex(std::string_view re, std::string* why) {
  std::string in(re);
  if (in.find("^^") != std::string::npos) {
    *why = "a regex anchored to the whole text (^^)";
    return "";
  }
  std::string out;
  bool match_open = false;
  for (size_t i = 0; i < in.size(); ++i) {
    auto at = [&](std::string_view w) { return in.compare(i, w.size(), w) == 0; };
    if (at("^TO_")) {
      out += kToUnderscore;
      i += 3;
    } else if (at("^TO")) {
      out += kTo;
      i += 2;
    } else if (at("^FROM_DAEMON")) {
      out += kFromDaemon;
      i += 11;
    } else if (at("^FROM_MAILER")) {
      out += kFromMailer;
      i += 11;
    } else if (at("\\/")) {
      if (match_open) {
        *why = "two \\/ in one regex";
        return "";
      }
      out += "(?<MATCH>";
      match_open = true;
      i += 1;
    } else if (at("\\<") || at("\\>")) {
      out += "\\b";
      i += 1;
    } else if (in[i] == '\\' && i + 1 < in.size()) {
      out += in[i];
      out += in[++i];
    } else if (in[i] == '/') {
      out += "\\/";
    } else {
      out += in[i];
    }
  }
  if (match_open) out += ")";
  return out;
}

ProcmailConversion ConvertProcmailrc(
    const std::string& path, std::string_view text, const std::string& home,
    const std::function<Status(const std::string& path, std::string* text)>& read_include) {
  ProcmailConversion out;
  out.rules = "# Converted from " + path + " by mdatest --from-procmail.\n";
  Converter c(path, home, read_include, 0);
  c.Run(text, &out);
  return out;
}

}  // namespace mda
