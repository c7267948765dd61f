// ProcmailConvert: procmailrc(5) recipes into mda rules, line by line, honest about the rest.
#include "mda/procmail_convert.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include "mda/config.h"
#include "mda/folder.h"
#include "mda/program.h"
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

// Words separated by blanks, nothing else interpreted.
std::vector<std::string> SplitBlanks(std::string_view s) {
  std::vector<std::string> words;
  for (size_t i = 0; i < s.size();) {
    size_t start = s.find_first_not_of(" \t", i);
    if (start == std::string_view::npos) break;
    size_t end = s.find_first_of(" \t", start);
    words.emplace_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    i = end == std::string_view::npos ? s.size() : end;
  }
  return words;
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
    if (c == '\n') {
      out += "\\n";
      continue;
    }
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
    vars_["MAILDIR"] = home_;                  // procmail's default: the home directory
    vars_["SENDMAIL"] = "/usr/sbin/sendmail";  // Debian's procmail's default
    vars_["PATH"] = home_ + "/bin:/usr/local/bin:/usr/bin:/bin";  // and its PATH
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
    if (raw.find('`') != std::string_view::npos) {
      *why = "a program's output (backticks) in the mailbox's name";
      return "";
    }
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
          "an mbox file (or a directory of single files); mda delivers into Maildir folders "
          "(write the Maildir++ folder as procmail would, .NAME/, or in mda 'folder NAME')";
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
    // procmail's B is the body as it arrived (MIME headers, encodings and all): rawbody.
    if (header && body) {
      test = "(headers ~ /" + re + "/" + mods + " or rawbody ~ /" + re + "/" + mods + ")";
    } else if (body) {
      test = "rawbody ~ /" + re + "/" + mods;
    } else {
      test = "headers ~ /" + re + "/" + mods;
    }
    return wrap(test);
  }

  // The action of a recipe, as mda actions; "" and `why` when it cannot be.
  std::string Action(const Recipe& r, std::string* why) {
    std::string a = Trim(r.action.text);
    bool copy = r.flags.find('c') != std::string::npos;
    if (a.empty()) {
      *why = "a recipe without an action";
      return "";
    }
    if (size_t eq = a.find('=');
        eq != std::string::npos && eq > 0 &&
        a.substr(0, eq).find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_") == std::string::npos) {
      *why = "a recipe that sets a variable (" + a.substr(0, eq) +
             "=) from the message or a program; mda's rules capture with regex groups instead";
      return "";
    }
    if (a[0] == '!') return Forward(a.substr(1), copy, why);
    if (a[0] == '|') {
      std::string cmd = Trim(a.substr(1));
      // `| $SENDMAIL -oi ADDR...`, with or without a formail adding an X-Loop first: a forward.
      if (std::string addresses; SendmailForward(cmd, &addresses)) {
        Note(r.line,
             "a forward through $SENDMAIL as mda's forward: mda marks it with "
             "X-Mda-Forwarded-For: (its own loop check) instead of an X-Loop header");
        return Forward(addresses, copy, why);
      }
    }
    return ActionRest(r, a, why);
  }

  // `| [formail -A "X-Loop: ..." |] $SENDMAIL [-oi] ADDR...`: the addresses, or false.
  bool SendmailForward(const std::string& cmd, std::string* addresses) {
    std::string rest = cmd;
    if (rest.rfind("formail", 0) == 0) {
      size_t bar = rest.find('|');
      if (bar == std::string::npos) return false;
      std::string f = rest.substr(0, bar);
      // Only an X-Loop field added: nothing mda would lose.
      std::string lower = f;
      for (char& ch : lower) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
      size_t loop = lower.find("x-loop:");
      if (loop == std::string::npos || lower.find_first_of(";&`$(", 0) != std::string::npos)
        return false;
      std::string opts = Trim(lower.substr(7, loop - 7));
      if (opts != "-a \"" && opts != "-a\"" && opts != "-a '" && opts != "-a'") return false;
      size_t close = lower.find_first_of("\"'", loop);
      if (close == std::string::npos || !Trim(f.substr(close + 1)).empty()) return false;
      rest = Trim(rest.substr(bar + 1));
    }
    std::vector<std::string> words = SplitBlanks(rest);
    if (words.empty() || (words[0] != "$SENDMAIL" && words[0] != "${SENDMAIL}" &&
                          words[0] != "/usr/sbin/sendmail" && words[0] != "/usr/lib/sendmail"))
      return false;
    addresses->clear();
    for (size_t i = 1; i < words.size(); ++i) {
      const std::string& w = words[i];
      if (w == "-oi" || w == "-i" || w == "-oem" || w == "-oee") continue;
      if (w[0] == '-' || w.find_first_of("|;&<>`()'\"") != std::string::npos) return false;
      *addresses += " " + w;
    }
    return !addresses->empty();
  }

  // A program named without a directory: where procmail's PATH finds it now. mda looks in
  // /usr/local/bin:/usr/bin:/bin only; a program found elsewhere first (~/bin) is named by
  // its path.
  std::string Program(const std::string& name, int line) {
    std::string_view path = vars_["PATH"];
    while (!path.empty()) {
      size_t colon = path.find(':');
      std::string dir(path.substr(0, colon));
      path.remove_prefix(colon == std::string_view::npos ? path.size() : colon + 1);
      if (dir.empty() || dir[0] != '/') continue;
      std::string candidate = dir + "/" + name;
      if (access(candidate.c_str(), X_OK) != 0) continue;
      std::string_view fixed = kProgramPath;
      while (!fixed.empty()) {
        size_t c = fixed.find(':');
        std::string fixed_dir(fixed.substr(0, c));
        fixed.remove_prefix(c == std::string_view::npos ? fixed.size() : c + 1);
        if (access((fixed_dir + "/" + name).c_str(), X_OK) == 0)
          return fixed_dir == dir ? name : candidate;  // mda finds the same one
      }
      return candidate;
    }
    Note(line,
         name + " is not in procmail's PATH now; mda looks for it in " + std::string(kProgramPath));
    return name;
  }

  std::string Forward(std::string_view raw, bool copy, std::string* why) {
    {
      std::string list;
      if (!Expand(raw, &list) || list.find("${MATCH}") != std::string::npos) {
        *why = "forward addresses with variables";
        return "";
      }
      std::string out = copy ? "copy forward" : "forward";
      size_t n = 0;
      for (const std::string& addr : SplitBlanks(list)) {
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
      }
      if (n == 0) {
        *why = "a forward without an address";
        return "";
      }
      return out;
    }
  }

  std::string ActionRest(const Recipe& r, const std::string& a, std::string* why) {
    bool copy = r.flags.find('c') != std::string::npos;
    bool filter = r.flags.find('f') != std::string::npos;
    if (a[0] == '|') {
      std::string cmd = Trim(a.substr(1));
      // formail: the duplicate check is built in; header edits are actions.
      if (cmd.rfind("formail", 0) == 0 || cmd.find("/formail ") != std::string::npos) {
        return Formail(cmd, r, why);
      }
      if (std::string text, ignored;
          r.flags.find('h') != std::string::npos && ReplyText(a, &text, &ignored)) {
        *why =
            "an automatic reply to every message (formail -r with no cache of who was "
            "answered): mda answers with 'vacation', once per sender in N days (days 1 at "
            "least), and never to lists, bounces or automatic mail";
        return "";
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
      const std::string& maildir = vars_["MAILDIR"];
      if (expanded.find_first_of("|&;<>()$`\\\"'*?[]~{}#\n") != std::string::npos) {
        // procmail hands such a line to $SHELL -c; so does the rule, by naming the shell. It
        // ran in MAILDIR; mda's programs start in the home directory.
        if (maildir != home_) {
          if (maildir.find('\'') != std::string::npos) {
            *why = "a shell command run in a MAILDIR with a quote in its name";
            return "";
          }
          expanded = "cd '" + maildir + "' && " + expanded;
        }
        args = Quote("/bin/sh") + " " + Quote("-c") + " " + Quote(expanded);
      } else {
        for (std::string word : SplitBlanks(expanded)) {
          // A relative program: procmail runs it from MAILDIR, its working directory.
          if (args.empty() && word.find('/') != std::string::npos && word[0] != '/')
            word = maildir + "/" + word;
          else if (args.empty() && word.find('/') == std::string::npos)
            word = Program(word, r.line);
          args += (args.empty() ? "" : " ") + Quote(word);
        }
        if (maildir != home_)
          Note(r.line, "the program starts in your home directory under mda, not in MAILDIR (" +
                           maildir + "): a relative file name in its arguments changes meaning");
      }
      if (filter) return "filter " + args;
      return (copy ? "copy pipe " : "pipe ") + args;
    }
    if (filter) {
      *why = "a filter recipe (f) without a program";
      return "";
    }
    if (a == "/dev/null") return copy ? "" : "discard";
    if (a.find('`') != std::string::npos) {
      *why = "a program's output (backticks) in the mailbox's name";
      return "";
    }
    // Several folders on one line: procmail stores the message in each (links).
    std::vector<std::string> names = SplitBlanks(a);
    if (names.size() > 1 && a.find_first_of("\"'`") != std::string::npos) {
      *why = "several mailboxes with quotes or backticks";
      return "";
    }
    std::string out;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string folder = Folder(names[i], why);
      if (folder.empty()) return "";
      bool last = i + 1 == names.size();
      out += (out.empty() ? "" : " ") + std::string(copy || !last ? "copy " : "folder ") +
             Quote(folder);
    }
    return out;
  }

  std::string Formail(const std::string& cmd, const Recipe& r, std::string* why) {
    std::vector<std::string> words;
    if (!ShellWords(cmd, &words, why)) {
      *why = "formail with " + *why;
      return "";
    }
    if (std::find(words.begin(), words.end(), "-D") != words.end()) {
      return "DUPLICATES";  // the caller drops the recipe with a note
    }
    for (size_t i = 1; i < words.size(); ++i) {
      if (words[i].size() > 1 && words[i][0] == '-' && words[i][1] == 'r') {
        *why = "formail " + words[i] +
               " turns the message into a reply: mda answers with 'vacation' (its own reply)";
        return "";
      }
    }
    if (r.flags.find('f') == std::string::npos) {
      *why = "formail without f (a reply or a split)";
      return "";
    }
    // Each edit a statement of its own (formail -A is "set it unless there, else add one"),
    // inside the recipe's block.
    std::vector<std::string> statements;
    for (size_t i = 1; i < words.size(); ++i) {
      std::string w = words[i];
      std::string attached;
      if (w.size() > 2 && w[0] == '-' && (w[1] == 'A' || w[1] == 'I' || w[1] == 'i')) {
        attached = w.substr(2);  // -A"X-Loop: me": the field joined to its option
        w = w.substr(0, 2);
      }
      if ((w == "-A" || w == "-I" || w == "-i") && (!attached.empty() || i + 1 < words.size())) {
        // Quotes and variables are ShellWords' business, done.
        std::string field = attached.empty() ? words[++i] : attached;
        size_t colon = field.find(':');
        if (colon == std::string::npos || colon == 0) {
          *why = "formail " + w + " without a 'Name: value' (" + field + ")";
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
        std::string escaped;  // mda expands $ in a header's value
        for (char ch : value) escaped += ch == '$' ? std::string("$$") : std::string(1, ch);
        std::string set = "set-header " + Quote(name + ": " + escaped);
        if (w == "-A") {
          // Added where the header ends, so later conditions see it, as formail's would be;
          // a second one of a field already there goes on top of the stored message.
          statements.push_back("if not exists " + name + ": then " + set);
          statements.push_back("else add-header " + Quote(name + ": " + escaped));
        } else if (w == "-i") {
          // The old one kept as Old-Name (the first occurrence's value, as mda reads it).
          if (lower.rfind("old-", 0) == 0) {
            *why = "formail -i of an Old- field";
            return "";
          }
          statements.push_back("if " + name + ": ~ /^(.*)$/ then set-header " +
                               Quote("Old-" + name + ": $1"));
          statements.push_back("if size >= 0 then " + set);
        } else if (value.empty()) {
          statements.push_back("if size >= 0 then remove-header " + Quote(name));
        } else {
          statements.push_back("if size >= 0 then " + set);
        }
        continue;
      }
      *why = "formail " + w + " (only -A, -I, -i and -D have an mda form)";
      return "";
    }
    if (statements.empty()) {
      *why = "formail with nothing the converter knows";
      return "";
    }
    std::string block = "{\n";
    for (const std::string& st : statements) block += st + "\n";
    return block + "}";
  }

  void Assignment(const Line& line, const std::string& indent) {
    std::string t = Trim(line.text);
    size_t eq = t.find('=');
    std::string name = Trim(t.substr(0, eq));
    std::string value;
    bool literal = Value(t.substr(eq + 1), &value);
    static const char* const kQuiet[] = {"VERBOSE",  "LOGABSTRACT", "COMSAT", "SHELL",
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
    if (in_block_ > 0 && name != "INCLUDERC" && name != "SWITCHRC") {
      // procmail makes it only when the block runs, and it holds after the block too; mda's
      // settings hold for the whole file.
      NotConverted(line.number, line.original,
                   "an assignment inside a block (procmail makes it only when the block runs)",
                   indent);
      return;
    }
    if (name == "MAILDIR") {
      // procmail changes into it: a relative one is below the one before.
      vars_["MAILDIR"] = !value.empty() && value[0] != '/' ? vars_["MAILDIR"] + "/" + value : value;
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
    if (name == "SWITCHRC") {
      // procmail goes on with that file and never comes back: its rules here, then what
      // procmail does at its end (DEFAULT, the INBOX: the converter takes no other).
      if (!value.empty() && !Include(line, value, indent, "SWITCHRC")) return;
      out_->rules += indent + "if size >= 0 then folder \"INBOX\"  # " + path_ + ":" +
                     std::to_string(line.number) + " SWITCHRC: procmail does not come back\n";
      Note(line.number,
           "SWITCHRC: converted in place, then INBOX (procmail's DEFAULT); what follows it in "
           "this file is not reached");
      return;
    }
    if (name == "EXITCODE" || name == "HOST" || name == "TRAP" || name == "DELIVERED" ||
        name == "LASTFOLDER") {
      NotConverted(line.number, line.original, name + " changes how procmail ends", indent);
      return;
    }
    vars_[name] = value;
    Note(line.number, name + " kept for the expansions below (not a setting of mda)");
  }

  // INCLUDERC (or SWITCHRC) of a file: converted here. False when it could not be.
  bool Include(const Line& line, const std::string& file, const std::string& indent,
               const std::string& what = "INCLUDERC") {
    if (depth_ >= 8) {
      NotConverted(line.number, line.original, what + " nested more than 8 deep", indent);
      return false;
    }
    std::string path = file;
    if (!path.empty() && path[0] != '/') path = vars_["MAILDIR"] + "/" + path;
    std::string text;
    if (!read_include_ || !read_include_(path, &text).ok()) {
      NotConverted(line.number, line.original, what + " " + path + " could not be read", indent);
      return false;
    }
    out_->rules += indent + "# " + path_ + ":" + std::to_string(line.number) + " " + what + "=" +
                   path + ", converted here:\n";
    Converter inner(path, home_, read_include_, depth_ + 1);
    inner.vars_ = vars_;
    inner.maildir_root_ = maildir_root_;
    inner.in_block_ = in_block_;
    inner.out_ = out_;
    std::vector<Line> lines = inner.Logical(text);
    size_t i = 0;
    inner.Statements(lines, &i, 0, indent);
    vars_ = inner.vars_;
    return true;
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
        if (Vacation(r, lines, i, indent)) {
          previous_ok = false;  // two recipes became one rule: nothing chains to it
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
    // A comment after the flags (procmailex(5): ":0 ehc   # if the name was not in the cache").
    for (size_t hash = t.find('#'); hash != std::string::npos; hash = t.find('#', hash + 1)) {
      if (hash > 0 && (t[hash - 1] == ' ' || t[hash - 1] == '\t')) {
        t = Trim(t.substr(0, hash));
        break;
      }
    }
    size_t colon = t.find(':');
    r->flags.clear();
    for (char f : colon == std::string::npos ? t : t.substr(0, colon))
      if (f != ' ' && f != '\t') r->flags += f;  // ":0 h c" is ":0 hc"
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

  // A command's words as sh would split them: quotes removed, $VAR and ${VAR} of the known
  // variables expanded; false (with `why`) at anything else sh would do (backticks, $(),
  // redirections, pipes, globs are not in a reply's echo and cat lines).
  bool ShellWords(std::string_view in, std::vector<std::string>* words, std::string* why) {
    words->clear();
    std::string word;
    bool in_word = false;
    auto variable = [&](size_t* i, std::string* out) {
      size_t j = *i + 1;
      size_t end = j;
      if (j < in.size() && in[j] == '{') {
        end = in.find('}', j);
        if (end == std::string_view::npos) return false;
        ++end;
      } else {
        while (end < in.size() && (isalnum(static_cast<unsigned char>(in[end])) || in[end] == '_'))
          ++end;
      }
      std::string value;
      if (end == j || !Expand(in.substr(*i, end - *i), &value) ||
          value.find("${MATCH}") != std::string::npos)
        return false;
      *out += value;
      *i = end - 1;
      return true;
    };
    for (size_t i = 0; i < in.size(); ++i) {
      char c = in[i];
      if (c == ' ' || c == '\t' || c == '\n') {
        if (in_word) words->push_back(word);
        word.clear();
        in_word = false;
        continue;
      }
      in_word = true;
      if (c == '\'') {
        size_t close = in.find('\'', i + 1);
        if (close == std::string_view::npos) return *why = "an unterminated quote", false;
        word += in.substr(i + 1, close - i - 1);
        i = close;
      } else if (c == '"') {
        for (++i; i < in.size() && in[i] != '"'; ++i) {
          if (in[i] == '\\' && i + 1 < in.size() &&
              std::string_view("\"\\$`").find(in[i + 1]) != std::string_view::npos) {
            word += in[++i];
          } else if (in[i] == '$') {
            if (!variable(&i, &word)) return *why = "a variable the converter does not know", false;
          } else if (in[i] == '`') {
            return *why = "backticks", false;
          } else {
            word += in[i];
          }
        }
        if (i >= in.size()) return *why = "an unterminated quote", false;
      } else if (c == '\\' && i + 1 < in.size()) {
        word += in[++i];
      } else if (c == '$') {
        if (!variable(&i, &word)) return *why = "a variable the converter does not know", false;
      } else if (std::string_view("|&;<>()`*?[]~{}#").find(c) != std::string_view::npos) {
        return *why = std::string("shell syntax ('") + c + "')", false;
      } else {
        word += c;
      }
    }
    if (in_word) words->push_back(word);
    return true;
  }

  // The reply of procmailex(5)'s vacation recipe: `(formail -r ...; echo "..."; cat FILE) |
  // $SENDMAIL -oi -t`. Its text (the echo lines and the files, read now), or false.
  bool ReplyText(std::string_view action, std::string* text, std::string* why) {
    std::string a = Trim(action);
    if (a.empty() || a[0] != '|') return *why = "not a program", false;
    a = Trim(a.substr(1));
    if (a.empty() || a[0] != '(') return *why = "not a ( ... ) | $SENDMAIL -t reply", false;
    // The matching parenthesis, quotes skipped.
    size_t close = std::string::npos;
    char quote = 0;
    for (size_t i = 1; i < a.size(); ++i) {
      if (quote) {
        if (a[i] == quote) quote = 0;
        if (a[i] == '\\' && quote == '"') ++i;
      } else if (a[i] == '"' || a[i] == '\'') {
        quote = a[i];
      } else if (a[i] == '\\') {
        ++i;
      } else if (a[i] == ')') {
        close = i;
        break;
      } else if (a[i] == '(') {
        return *why = "a nested ( ) in the reply", false;
      }
    }
    if (close == std::string::npos) return *why = "no closing ) in the reply", false;
    std::string tail = Trim(a.substr(close + 1));
    if (tail.empty() || tail[0] != '|')
      return *why = "the reply is not piped into $SENDMAIL", false;
    std::vector<std::string> sendmail;
    if (!ShellWords(Trim(tail.substr(1)), &sendmail, why)) return false;
    bool t = false;
    for (size_t i = 1; i < sendmail.size(); ++i) {
      if (sendmail[i] == "-t") {
        t = true;
      } else if (sendmail[i] != "-oi" && sendmail[i] != "-i" && sendmail[i] != "-oem") {
        return *why = "sendmail " + sendmail[i] + " in the reply", false;
      }
    }
    std::string program = sendmail.empty() ? "" : sendmail[0];
    if (!t || (program != vars_["SENDMAIL"] && program.find("sendmail") == std::string::npos))
      return *why = "the reply is not sent with $SENDMAIL -t", false;
    // The commands between the parentheses.
    std::string inner = a.substr(1, close - 1);
    std::vector<std::string> parts;
    std::string part;
    quote = 0;
    for (size_t i = 0; i < inner.size(); ++i) {
      char c = inner[i];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == ';') {
        parts.push_back(part);
        part.clear();
        continue;
      }
      part += c;
    }
    parts.push_back(part);
    bool replied = false;
    text->clear();
    for (const std::string& p : parts) {
      std::vector<std::string> w;
      if (Trim(p).empty()) continue;
      if (!ShellWords(p, &w, why)) return false;
      if (w.empty()) continue;
      if (w[0] == "formail") {
        for (size_t i = 1; i < w.size(); ++i) replied = replied || w[i].rfind("-r", 0) == 0;
        if (!replied) return *why = "a formail without -r in the reply", false;
      } else if (w[0] == "echo") {
        if (w.size() > 1 && (w[1] == "-n" || w[1] == "-e" || w[1] == "-E"))
          return *why = "echo " + w[1] + " in the reply", false;
        std::string line;
        for (size_t i = 1; i < w.size(); ++i) line += (i > 1 ? " " : "") + w[i];
        *text += line + "\n";
      } else if (w[0] == "cat" && w.size() == 2 && w[1] != "-") {
        std::string file = w[1][0] == '/' ? w[1] : vars_["MAILDIR"] + "/" + w[1];
        std::string content;
        if (!read_include_ || !read_include_(file, &content).ok())
          return *why = "its text file " + file + " could not be read", false;
        if (content.size() > 65536)
          return *why = "its text file " + file + " is over 64 KiB", false;
        *text += content;
        if (!content.empty() && content.back() != '\n') *text += "\n";
      } else {
        return *why = "'" + w[0] + "' in the reply (only formail -r, echo and cat FILE are known)",
               false;
      }
    }
    if (!replied) return *why = "no formail -r in the reply", false;
    if (text->empty()) return *why = "a reply without text", false;
    return true;
  }

  // procmailex(5)'s vacation: a `c` recipe piping into `formail -rD N CACHE` (true when the
  // sender was answered before), then an `e` recipe (so: when not) sending the reply. One
  // `vacation` rule; false, with nothing read, when the recipe is not the first of such a
  // pair. procmail answers each sender once while the cache remembers them; mda once
  // every 7 days.
  bool Vacation(const Recipe& r, const std::vector<Line>& lines, size_t* cursor,
                const std::string& indent) {
    std::string a = Trim(r.action.text);
    if (r.has_block || a.empty() || a[0] != '|' || r.flags.find('c') == std::string::npos)
      return false;
    std::vector<std::string> w;
    std::string ignored;
    if (!ShellWords(Trim(a.substr(1)), &w, &ignored) || w.size() < 3 || w[0] != "formail")
      return false;
    bool r_flag = false, d_flag = false;
    for (size_t i = 1; i < w.size() && w[i][0] == '-'; ++i) {
      r_flag = r_flag || w[i].find('r') != std::string::npos;
      d_flag = d_flag || w[i].find('D') != std::string::npos;
    }
    if (!r_flag || !d_flag) return false;
    size_t next = *cursor;
    while (next < lines.size() &&
           (Trim(lines[next].text).empty() || Trim(lines[next].text)[0] == '#'))
      ++next;
    if (next >= lines.size() || Trim(lines[next].text).rfind(":0", 0) != 0) return false;
    Recipe reply;
    size_t after = next;
    if (!ReadRecipe(lines, &after, &reply) || reply.has_block ||
        reply.flags.find('e') == std::string::npos || !reply.conditions.empty())
      return false;
    std::string original = r.original + "\n" + reply.original;
    *cursor = after;
    std::string text, why;
    if (HasControl(original)) {
      NotConverted(r.line, original, "a control character in the vacation recipe", indent);
      return true;
    }
    if (!ReplyText(reply.action.text, &text, &why)) {
      NotConverted(r.line, original, "the vacation recipe's reply: " + why, indent);
      return true;
    }
    std::string condition;
    for (const Line& c : r.conditions) {
      std::string t = Trim(c.text);
      if (t[0] == '$' && t.find("LOGNAME") != std::string::npos) {
        Note(c.number,
             "the check for your name in To: dropped: mda's vacation answers only mail with one "
             "of your addresses in To or Cc (add more with 'addresses')");
        continue;
      }
      std::string test = Condition(c.text, r.flags, &why);
      if (test.empty()) {
        NotConverted(r.line, original, why, indent);
        return true;
      }
      condition += (condition.empty() ? "" : " and ") + test;
    }
    if (condition.empty()) condition = "size >= 0";
    std::string escaped;
    for (char c : text) escaped += c == '$' ? std::string("$$") : std::string(1, c);
    std::string rule = "if " + condition + " then vacation days 7 " + Quote(escaped);
    if (!Parses(rule, &why)) {
      NotConverted(r.line, original, why, indent);
      return true;
    }
    if (r.lock) Note(r.line, "lock dropped: mda needs no lock files");
    Note(r.line,
         "the vacation recipe (with line " + std::to_string(reply.line) +
             ") as 'vacation days 7': each sender is answered once every 7 days (procmail: once "
             "while formail's cache remembered them); mda also stays silent for list mail "
             "(List-*), Auto-Submitted mail, bounces and mail not addressed to you (RFC 3834)");
    out_->rules += indent + "# " + path_ + ":" + std::to_string(r.line) + " and " +
                   std::to_string(reply.line) + " (the vacation recipe)\n" + indent + rule + "\n";
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
    bool after_duplicates = dedup_copy_;
    dedup_copy_ = false;
    if ((chained_else || chained_and) && !*previous_ok) {
      Fail(r, lines, cursor, indent,
           after_duplicates
               ? "it files what formail -D found to be a duplicate: mda's duplicate check "
                 "suppresses duplicates (the log says outcome=duplicate), it does not file them"
               : "an E or A recipe after one that was not converted to a rule",
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
      dedup_copy_ = r.flags.find('c') != std::string::npos;
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
    if (action.rfind("{\n", 0) == 0) {  // statements of their own (formail's edits)
      out_->rules += indent + "# " + where + "\n" + indent + keyword + condition + " then {\n";
      for (size_t at = 2, nl; (nl = action.find('\n', at)) != std::string::npos; at = nl + 1)
        out_->rules += indent + "    " + action.substr(at, nl - at) + "\n";
      out_->rules += indent + "}\n";
    } else {
      out_->rules +=
          indent + "# " + where + "\n" + indent + keyword + condition + " then " + action + "\n";
    }
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
  int in_block_ = 0;         // inside how many blocks (assignments there are conditional)
  bool dedup_copy_ = false;  // the last recipe was a `c` formail -D (A/a after it: duplicates)
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
