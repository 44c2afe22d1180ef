// JsonValues.cpp: nlohmann-json's SAX parser (no document is built, nesting is an explicit
// stack), with an input iterator that counts bytes so that every event has a position.
#include "support/JsonValues.h"

#include "support/Numbers.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <iterator>

namespace gradc {

namespace {

// Walks the text for the parser and records how far it has read: a SAX event fires just
// after its token's last character (a number's, one further: the lexer reads one ahead).
struct CountingIterator {
  using iterator_category = std::forward_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char *;
  using reference = const char &;
  const char *p = nullptr;
  const char **furthest = nullptr;
  reference operator*() const { return *p; }
  CountingIterator &operator++() {
    ++p;
    if (p > *furthest)
      *furthest = p;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator &o) const { return p == o.p; }
  bool operator!=(const CountingIterator &o) const { return p != o.p; }
};

// At most `n` characters of `s`, quoted, for a message.
std::string excerpt(const std::string &s, size_t n = 24) {
  std::string out;
  for (char c : s.substr(0, n)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += u < 0x20 || u == 0x7f ? '?' : c;
  }
  return "'" + out + (s.size() > n ? "...'" : "'");
}

class ValuesHandler : public nlohmann::json_sax<nlohmann::json> {
public:
  ValuesHandler(const std::string &text, const char **furthest, Diagnostics &diags)
      : text_(text), furthest_(furthest), diags_(diags) {}

  std::map<std::string, JsonValue> values;

  bool null() override { return notANumber("null", 4); }
  bool boolean(bool v) override { return notANumber(v ? "true" : "false", v ? 4 : 5); }
  bool binary(binary_t &) override { return notANumber("binary data", 1); }
  bool string(string_t &s) override {
    double v;
    if (depth_ >= 1 && parseReal(s, v, true) == NumberStatus::Ok) // "nan", "inf", "-inf"
      return number(v, s.size() + 2, nullptr);
    return notANumber("the string " + excerpt(s), s.size() + 2);
  }
  // Exactness is decided on the integer itself (2^53 + 1 rounds to 2^53 as a double).
  bool number_integer(number_integer_t v) override {
    bool exact = v >= -(int64_t(1) << 53) && v <= (int64_t(1) << 53);
    return integer(static_cast<double>(v), std::to_string(v), exact);
  }
  bool number_unsigned(number_unsigned_t v) override {
    return integer(static_cast<double>(v), std::to_string(v), v <= (uint64_t(1) << 53));
  }
  bool number_float(number_float_t, const string_t &s) override {
    double v;
    NumberStatus st = parseReal(s, v);
    if (st != NumberStatus::Ok)
      return fail(tokenStart(s.size() + 1), "the number " + excerpt(s) + " " + numberProblem(st));
    return number(v, s.size() + 1, nullptr);
  }
  bool start_object(std::size_t) override {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return notANumber("an object", 1);
  }
  bool key(string_t &k) override {
    size_t at = tokenStart(k.size() + 2);
    if (values.count(k))
      return fail(at, "the key " + excerpt(k) + " appears twice (give each value once)");
    key_ = k;
    current_ = &values[k];
    openCounts_.clear();
    leafDepth_ = -1;
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    size_t at = tokenStart(1);
    if (depth_ == 0)
      return fail(at, "expected a JSON object of parameter values ({\"x\": 1, \"W\": [[1, 2], [3, 4]]}), "
                      "not an array");
    size_t level = openCounts_.size();
    if (level + 1 > kMaxJsonDepth)
      return fail(at, "arrays nested more than " + std::to_string(kMaxJsonDepth) + " deep");
    if (leafDepth_ >= 0 && static_cast<int64_t>(level) >= leafDepth_)
      return fail(at, excerpt(key_) + " is a ragged array: an array where a number was before");
    openCounts_.push_back(0);
    ++depth_;
    return true;
  }
  bool end_array() override {
    size_t at = tokenStart(1);
    size_t level = openCounts_.size() - 1;
    int64_t count = openCounts_.back();
    openCounts_.pop_back();
    --depth_;
    if (count == 0)
      return fail(at, excerpt(key_) + " has an empty array");
    // The innermost arrays close first: a level's size is known when its first array closes.
    std::vector<int64_t> &shape = current_->shape;
    if (shape.size() <= level)
      shape.resize(level + 1, -1);
    if (shape[level] < 0)
      shape[level] = count;
    else if (shape[level] != count)
      return fail(at, excerpt(key_) + " is a ragged array: " + std::to_string(count) +
                          (count == 1 ? " element" : " elements") + " where the " +
                          "arrays before have " + std::to_string(shape[level]));
    if (!openCounts_.empty())
      ++openCounts_.back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string &lastToken,
                   const nlohmann::detail::exception &ex) override {
    if (diags_.hasErrors()) // a handler that returned false: its error is recorded
      return false;
    std::string what = ex.what();
    std::string reason;
    if (ex.id == 406) { // number overflow
      size_t q = what.find('\'');
      std::string number = q == std::string::npos ? "" : what.substr(q + 1, what.rfind('\'') - q - 1);
      reason = "the number " + excerpt(number) + " " + numberProblem(NumberStatus::OutOfRange);
      position = position > number.size() ? position - number.size() : 0;
    } else {
      size_t dash = what.find(" - ");
      reason = dash == std::string::npos ? what : what.substr(dash + 3);
      // nlohmann quotes the whole token it last read (the text it passes as lastToken), which
      // may be a megabyte: that part goes; the reason and what was expected stay, and the
      // caret shows the place.
      std::string lastRead = "; last read: '" + lastToken + "'";
      if (size_t at = reason.find(lastRead); at != std::string::npos)
        reason.erase(at, lastRead.size());
      if (reason.size() > 200)
        reason = reason.substr(0, 200) + "...";
      position = position > 0 ? position - 1 : 0;
      char c = position < text_.size() ? text_[position] : ' ';
      if (reason.rfind("invalid literal", 0) == 0 && (c == 'N' || c == 'n' || c == 'I' || c == 'i'))
        reason += " (JSON has no NaN or Infinity: write the strings \"nan\", \"inf\" and \"-inf\")";
    }
    return fail(position, ex.id == 406 ? reason : "invalid JSON: " + reason);
  }

private:
  bool notANumber(const std::string &what, size_t length) {
    size_t at = tokenStart(length);
    if (depth_ == 0)
      return fail(at, "expected a JSON object of parameter values ({\"x\": 1, \"W\": [[1, 2], [3, 4]]})");
    return fail(at, excerpt(key_) + ": expected a number or an array of numbers, got " + what);
  }
  bool integer(double v, const std::string &text, bool exact) {
    return number(v, text.size() + 1, exact ? nullptr : &text);
  }
  bool number(double v, size_t length, const std::string *inexact) {
    size_t at = tokenStart(length);
    if (depth_ == 0)
      return fail(at, "expected a JSON object of parameter values ({\"x\": 1, \"W\": [[1, 2], [3, 4]]})");
    int64_t level = static_cast<int64_t>(openCounts_.size());
    if (leafDepth_ < 0)
      leafDepth_ = level;
    if (level != leafDepth_)
      return fail(at, excerpt(key_) + " is a ragged array: a number where an array was before");
    if (inexact && !current_->inexactInteger)
      current_->inexactInteger = {{current_->data.size(), *inexact}};
    current_->data.push_back(v);
    if (!openCounts_.empty())
      ++openCounts_.back();
    return true;
  }
  // Where the token that just ended began: `length` characters back from how far the
  // parser has read.
  size_t tokenStart(size_t length) const {
    size_t read = static_cast<size_t>(*furthest_ - text_.data());
    return read > length ? read - length : 0;
  }
  bool fail(size_t offset, const std::string &message) {
    diags_.error(locationOf(offset), message);
    return false;
  }
  SourceLoc locationOf(size_t offset) const {
    offset = std::min(offset, text_.size());
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (text_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return {line, col};
  }

  const std::string &text_;
  const char **furthest_;
  Diagnostics &diags_;
  int depth_ = 0; // 0 outside the object, 1 inside it, more inside arrays
  std::string key_;
  JsonValue *current_ = nullptr;
  std::vector<int64_t> openCounts_; // elements so far of each open array of the value
  int64_t leafDepth_ = -1;          // the nesting at which the value's numbers are
};

} // namespace

std::optional<std::map<std::string, JsonValue>> parseJsonValues(const std::string &text, Diagnostics &diags) {
  const char *furthest = text.data();
  ValuesHandler handler(text, &furthest, diags);
  CountingIterator begin{text.data(), &furthest}, end{text.data() + text.size(), &furthest};
  bool ok = nlohmann::json::sax_parse(begin, end, &handler, nlohmann::json::input_format_t::json, true);
  if (!ok || diags.hasErrors()) {
    if (!diags.hasErrors())
      diags.error({}, "invalid JSON");
    return std::nullopt;
  }
  return std::move(handler.values);
}

} // namespace gradc
