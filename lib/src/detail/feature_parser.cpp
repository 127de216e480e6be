#include "detail/feature_parser.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "detail/json_number.hpp"
#include "moodboost/error.hpp"

namespace moodboost::detail {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr std::array<std::string_view, 3> kSections = {"lowlevel", "rhythm", "tonal"};
constexpr std::string_view kMetadata = "metadata";

bool is_section(std::string_view key) {
  return std::find(kSections.begin(), kSections.end(), key) != kSections.end();
}

// A key or string value as a message shows it: control characters as JSON escapes (\u0000), since
// a raw NUL would cut the message short where it is read as a C string (what()).
void append_escaped(std::string& out, char c) {
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += "\\u00";
    out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
    out += kHex[static_cast<unsigned char>(c) & 0xF];
  } else {
    out += c;
  }
}

std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) append_escaped(out, c);
  return out;
}

// RFC 6901: '~' -> "~0", '/' -> "~1"; control characters escaped as above.
void append_pointer_token(std::string& out, std::string_view key) {
  out += '/';
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      append_escaped(out, c);
    }
  }
}

std::string pointer_of(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& k : path) append_pointer_token(out, k);
  return out;
}

std::string join_dotted(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& k : path) {
    if (!out.empty()) out += '.';
    out += escaped(k);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Errors outside the handlers: encoding prefixes and RapidJSON syntax errors.

// JSON text is UTF-8 without a byte-order mark (RFC 8259 section 8.1).
void check_prefix(const FileBuffer& buffer, const std::string& file) {
  const auto* b = reinterpret_cast<const unsigned char*>(buffer.data());
  const std::size_t n = buffer.size();
  if (n == 0) throw ParseError(file, "", "the file is empty, expected a JSON object");
  if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) {
    throw ParseError(
        file, "byte 0",
        "the file starts with a UTF-8 byte-order mark (EF BB BF), which JSON text must "
        "not have (RFC 8259 section 8.1); remove the first 3 bytes");
  }
  if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
    throw ParseError(file, "byte 0",
                     "the file is UTF-16 text (byte-order mark), expected UTF-8 JSON");
  }
}

std::string line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(offset - line_start + 1);
}

[[noreturn]] void throw_syntax_error(const FileBuffer& buffer, const rapidjson::ParseResult& result,
                                     const std::string& file) {
  const std::string_view text = buffer.view();
  const std::size_t offset = result.Offset();
  const std::string where =
      "byte " + std::to_string(offset) + " (" + line_and_column(text, offset) + ")";
  if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
    const auto at = static_cast<std::size_t>(static_cast<const char*>(nul) - text.data());
    throw ParseError(file, "byte " + std::to_string(at),
                     "binary data (a NUL byte), expected JSON text");
  }
  switch (result.Code()) {
    case rapidjson::kParseErrorDocumentEmpty:
      throw ParseError(file, "", "the file holds only whitespace, expected a JSON object");
    case rapidjson::kParseErrorStringInvalidEncoding:
      throw ParseError(file, where, "invalid UTF-8 in a string (feature files must be UTF-8)");
    case rapidjson::kParseErrorDocumentRootNotSingular:
      throw ParseError(file, where, "unexpected data after the end of the JSON object");
    default:
      break;
  }
  // Everything after the error is whitespace: the parser ran out of input mid-value.
  if (text.find_first_not_of(" \t\r\n", std::min(offset, text.size())) == std::string_view::npos) {
    throw ParseError(file, where,
                     std::string("unexpected end of file, the file is truncated (") +
                         rapidjson::GetParseError_En(result.Code()) + ")");
  }
  const std::size_t from = std::min(offset, text.size());
  std::string excerpt(text.substr(from, 20));
  for (char& c : excerpt) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  }
  throw ParseError(file, where,
                   std::string("invalid JSON: ") + rapidjson::GetParseError_En(result.Code()) +
                       " (at \"" + excerpt + "\")");
}

// The sharp spelling of a flat key name ("Ab" -> "G#", "Cb" -> "B"); empty for anything else.
// Essentia's key estimators mostly write sharps, but some profiles write flats (the music-2.0
// sample has "key_temperley": {"key": "Ab"}).
std::string sharp_spelling(std::string_view key) {
  if (key.size() != 2 || key[1] != 'b' || key[0] < 'A' || key[0] > 'G') return {};
  static constexpr const char* kBelow[] = {"G#", "A#", "B", "C#", "D#", "E", "F#"};  // below A..G
  return kBelow[key[0] - 'A'];
}

bool is_delimiter(char c) {
  return c == '\0' || c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\r' ||
         c == '\n';
}

// Raw Essentia output writes non-finite floats with C++ ostream: bare nan, -nan, inf, -inf
// (invalid JSON; MTG/essentia#858). Rewrites them, outside strings, into the tokens RapidJSON's
// kParseNanAndInfFlag reads (NaN, -NaN, Inf, -Inf, Infinity), byte for byte the same length, so
// byte offsets in later error messages still match the file. Returns the number rewritten.
std::size_t rewrite_bare_non_finite(FileBuffer& buffer) {
  char* p = buffer.data();
  const std::size_t n = buffer.size();
  std::size_t count = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = p[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != 'n' && c != 'i' && c != '-') continue;
    std::size_t j = c == '-' ? i + 1 : i;
    std::size_t len = 0;
    if (std::strncmp(p + j, "nan", 3) == 0) {
      p[j] = 'N';
      p[j + 2] = 'N';
      len = 3;
    } else if (std::strncmp(p + j, "infinity", 8) == 0) {
      p[j] = 'I';
      len = 8;
    } else if (std::strncmp(p + j, "inf", 3) == 0) {
      p[j] = 'I';
      len = 3;
    }
    if (len == 0) continue;
    if (!is_delimiter(p[j + len])) {  // not a whole token: undo (e.g. "infx")
      if (p[j] == 'N') {
        p[j] = 'n';
        p[j + 2] = 'n';
      } else {
        p[j] = 'i';
      }
      continue;
    }
    ++count;
    i = j + len - 1;
  }
  return count;
}

// Runs one parse of \p buffer with \p handler; on a syntax error retries once after rewriting
// bare nan/inf tokens. Handler needs reset(), failed(), place(), message(), finish(file).
template <typename Handler>
void run_parse(rapidjson::Reader& reader, FileBuffer& buffer, Handler& handler,
               const std::string& file) {
  check_prefix(buffer, file);
  for (int attempt = 0;; ++attempt) {
    handler.reset();
    rapidjson::StringStream stream(buffer.data());
    handler.set_source(buffer.view(), &stream.src_);
    const rapidjson::ParseResult result = reader.Parse<kFeatureParseFlags>(stream, handler);
    if (result) {
      // The stream stops at the first NUL byte: anything after it is binary garbage.
      if (stream.Tell() != buffer.size()) {
        throw ParseError(file, "byte " + std::to_string(stream.Tell()),
                         "binary data (a NUL byte), expected JSON text");
      }
      handler.finish(file);
      return;
    }
    if (handler.failed()) throw ParseError(file, handler.place(), handler.message());
    if (attempt == 0 && rewrite_bare_non_finite(buffer) > 0) continue;
    throw_syntax_error(buffer, result, file);
  }
}

// A file without any feature section, e.g. an AcousticBrainz high-level file.
[[noreturn]] void throw_no_section(const std::string& file,
                                   const std::vector<std::string>& top_keys) {
  std::string keys;
  for (const auto& k : top_keys) keys += (keys.empty() ? "" : ", ") + escaped(k);
  const bool highlevel = std::find(top_keys.begin(), top_keys.end(), "highlevel") != top_keys.end();
  throw ParseError(
      file, "/",
      "no lowlevel, rhythm or tonal section (top-level keys: " + (keys.empty() ? "none" : keys) +
          ")" +
          (highlevel ? " (an AcousticBrainz high-level file? the loader reads low-level files)"
                     : ""));
}

// The error a SAX handler stops the parse with (it returns false; run_parse() throws it).
class HandlerError {
 public:
  [[nodiscard]] bool failed() const noexcept { return failed_; }
  [[nodiscard]] const std::string& place() const noexcept { return place_; }
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// The text being parsed and the stream's read position: during a number's SAX event it is
  /// still at the number's first byte (RapidJSON parses a number on a local copy of the stream).
  void set_source(std::string_view text, const char* const* cursor) noexcept {
    text_ = text;
    cursor_ = cursor;
  }

 protected:
  // The text of the number being handled: what RapidJSON read, and any letters, digits, points
  // and signs glued to it ("NaN.5", "Infe3": RapidJSON 1.1.0 reads on after NaN/Inf into a
  // fraction or an exponent and returns garbage).
  [[nodiscard]] std::string_view number_text() const noexcept {
    const char* const begin = *cursor_;
    const char* end = begin;
    while ((*end >= '0' && *end <= '9') || (*end >= 'A' && *end <= 'Z') ||
           (*end >= 'a' && *end <= 'z') || *end == '.' || *end == '+' || *end == '-') {
      ++end;
    }
    return {begin, static_cast<std::size_t>(end - begin)};
  }
  // A NaN or infinity token (or garbage RapidJSON read as a number after one).
  [[nodiscard]] bool at_token() const noexcept {
    const char* p = *cursor_;
    const char first = p[p[0] == '-' ? 1 : 0];
    return first == 'N' || first == 'I';
  }
  // RapidJSON's double \p d of the number being handled -> the correctly rounded float of its
  // text, exactly (json_number.hpp): float(d) where that is provably the same, else the text.
  NumberText to_float(double d, float& out) const noexcept {
    if (!at_token() && rounds_to_float_exactly(d)) [[likely]] {
      out = static_cast<float>(d);
      return NumberText::kFinite;
    }
    const std::string_view text = number_text();
    return read_number(text.data(), text.size(), out);
  }
  // An integer event: exact, so its float conversion rounds once; "-0" arrives as Int(0).
  [[nodiscard]] float integer_to_float(std::int64_t i) const noexcept {
    return i == 0 && **cursor_ == '-' ? -0.0f : static_cast<float>(i);
  }
  // The number being handled is no number this parser accepts ("NaN.5", "Infe3"): an error at
  // its byte, as RapidJSON's syntax errors are placed.
  bool bad_number() {
    const std::size_t offset = static_cast<std::size_t>(*cursor_ - text_.data());
    const std::string_view text = number_text();
    std::string token = escaped(text.substr(0, 40));
    if (text.size() > 40) token += "...";
    return fail("byte " + std::to_string(offset) + " (" + line_and_column(text_, offset) + ")",
                "invalid number \"" + token +
                    "\" (the non-finite numbers accepted are NaN, Inf, Infinity and Essentia's "
                    "nan, inf, infinity, each optionally negative, with nothing after them)");
  }
  // A number whose value is not needed (a skipped value): only a NaN/Inf spelling is checked.
  bool check_number() {
    if (!at_token()) return true;  // digits: RapidJSON checked their grammar
    float v = 0;
    const std::string_view text = number_text();
    return read_number(text.data(), text.size(), v) != NumberText::kBadToken || bad_number();
  }

  bool fail(std::string place, std::string message) {
    failed_ = true;
    place_ = std::move(place);
    message_ = std::move(message);
    return false;
  }
  void clear_error() { failed_ = false; }
  // At a StartObject or StartArray event: the stream has just taken the bracket.
  bool too_deep() {
    const std::size_t offset = static_cast<std::size_t>(*cursor_ - text_.data()) - 1;
    // The handlers stop the parse at kMaxJsonDepth (json_util.hpp), so RapidJSON's recursion
    // stays shallow on hostile input.
    return fail("byte " + std::to_string(offset) + " (" + line_and_column(text_, offset) + ")",
                nested_too_deep());
  }

 private:
  bool failed_ = false;
  std::string place_;
  std::string message_;
  std::string_view text_;
  const char* const* cursor_ = nullptr;
};

std::string found_top_level(std::string_view what) {
  return std::string("expected a JSON object at the top level, found ") + std::string(what);
}

// RFC 8259 leaves the meaning of a repeated key open (parsers keep the first value, the last, or
// both): a file that repeats a key the loader reads is refused rather than read either way.
std::string duplicate_key(std::string_view key) {
  return "duplicate key \"" + escaped(key) +
         "\": a JSON object must not repeat a key (which of its values counts is undefined)";
}

}  // namespace

// =============================================================================================
// CompiledSchema

std::uint32_t CompiledSchema::add_node(std::uint32_t parent, const std::string& key) {
  Node n;
  n.parent = parent;
  n.key_begin = static_cast<std::uint32_t>(keys_.size());
  n.key_size = static_cast<std::uint32_t>(key.size());
  keys_ += key;
  nodes_.push_back(n);
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void CompiledSchema::insert(std::uint32_t id) {
  const Node& n = nodes_[id];
  const std::uint64_t h = hash_key(n.parent, keys_.data() + n.key_begin, n.key_size);
  for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
    if (table_[i].node == kNone) {
      table_[i] = Entry{n.parent, id, static_cast<std::uint32_t>(h)};
      return;
    }
  }
}

CompiledSchema::CompiledSchema(const FeatureSchema& schema) : schema_(&schema) {
  nodes_.emplace_back();  // the root (the top-level object)
  std::map<std::pair<std::uint32_t, std::string>, std::uint32_t> index;
  auto child_of = [&](std::uint32_t parent, const std::string& key) {
    const auto it = index.find({parent, key});
    if (it != index.end()) return it->second;
    const std::uint32_t id = add_node(parent, key);
    index.emplace(std::make_pair(parent, key), id);
    return id;
  };
  for (const auto s : kSections) nodes_[child_of(kRoot, std::string(s))].section = true;
  nodes_[child_of(kRoot, std::string(kMetadata))].skip = true;

  // Slots: for each field, its numbers (one-hot values, summary statistics) -> column or -1.
  const auto& fields = schema.fields();
  std::vector<std::uint32_t> field_node(fields.size());
  std::vector<std::size_t> field_slot(fields.size());
  for (std::size_t fi = 0; fi < fields.size(); ++fi) {
    const FeatureField& f = fields[fi];
    std::uint32_t id = kRoot;
    for (const auto& key : f.path) id = child_of(id, key);
    field_node[fi] = id;
    Node& n = nodes_[id];
    n.field = static_cast<std::uint32_t>(fi);
    n.kind = f.kind;
    n.rows = static_cast<std::uint32_t>(f.rows);
    n.cols = static_cast<std::uint32_t>(f.cols);
    n.slot = static_cast<std::uint32_t>(slots_.size());
    field_slot[fi] = slots_.size();
    std::size_t count = f.numbers();
    if (f.kind == FieldKind::kCategory) count = f.vocabulary.size();
    if (f.kind == FieldKind::kSequence) count = std::size(kSequenceSummary);
    slots_.resize(slots_.size() + count, -1);
  }
  const auto& columns = schema.columns();
  for (std::size_t ci = 0; ci < columns.size(); ++ci) {
    slots_[field_slot[columns[ci].field] + columns[ci].element] = static_cast<std::int32_t>(ci);
  }
  for (std::size_t fi = 0; fi < fields.size(); ++fi) {
    Node& n = nodes_[field_node[fi]];
    const std::size_t count =
        (fi + 1 < fields.size() ? field_slot[fi + 1] : slots_.size()) - field_slot[fi];
    n.skip = std::all_of(slots_.begin() + static_cast<std::ptrdiff_t>(field_slot[fi]),
                         slots_.begin() + static_cast<std::ptrdiff_t>(field_slot[fi] + count),
                         [](std::int32_t s) { return s < 0; });
  }

  std::size_t size = 16;
  while (size < 2 * nodes_.size()) size *= 2;
  table_.assign(size, Entry{});
  mask_ = size - 1;
  for (std::uint32_t id = 1; id < nodes_.size(); ++id) insert(id);
}

std::string CompiledSchema::pointer(std::uint32_t id) const {
  std::vector<std::uint32_t> chain;
  for (; id != kRoot && id != kNone; id = nodes_[id].parent) chain.push_back(id);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    append_pointer_token(
        out, std::string_view(keys_).substr(nodes_[*it].key_begin, nodes_[*it].key_size));
  }
  return out.empty() ? "/" : out;
}

std::string CompiledSchema::dotted(std::uint32_t id) const {
  std::string out = pointer(id);
  if (out == "/") return "";
  out.erase(0, 1);
  std::replace(out.begin(), out.end(), '/', '.');
  return out;
}

// =============================================================================================
// RowParser: the hot path. Every number goes from the SAX event straight to its column.

class RowParser::Handler : public HandlerError {
 public:
  Handler(const CompiledSchema& schema, NonFinitePolicy non_finite, ShapePolicy shape)
      : s_(schema),
        slots_(schema.slots()),
        reject_non_finite_(non_finite == NonFinitePolicy::kReject),
        lenient_(shape == ShapePolicy::kMissing),
        next_key_(schema.node_count(), CompiledSchema::kNone),
        seen_(schema.node_count(), 0) {}

  void start(float* row, RowResult* result) {
    row_ = row;
    result_ = result;
  }

  void reset() {
    std::fill(row_, row_ + s_.columns(), kNaN);
    depth_ = skip_base_ = top_ = 0;
    pending_ = leaf_ = CompiledSchema::kNone;
    in_run_ = false;
    pending_skip_ = saw_section_ = false;
    clear_error();
    level_ = 0;
    last_key_ = CompiledSchema::kRoot;
    top_keys_.clear();
    *result_ = RowResult{};
    if (++generation_ == 0) {  // wrapped: forget every stamp
      std::fill(seen_.begin(), seen_.end(), 0);
      generation_ = 1;
    }
  }

  void finish(const std::string& file) {
    if (!saw_section_) throw_no_section(file, top_keys_);
  }

  // --- SAX events ----------------------------------------------------------------------------
  bool Null() {
    if (skip_base_ != 0) return true;
    if (leaf_ != CompiledSchema::kNone) return array_value(kNaN, NumberText::kNaN, false);
    if (pending_skip_) return (pending_skip_ = false, true);
    if (pending_ == CompiledSchema::kNone) return fail("/", found_top_level("null"));
    const std::uint32_t id = take_pending();
    clear_field(id);  // null = missing, whatever the field's shape
    return true;
  }
  // Booleans read as 0/1; integers convert exactly (one rounding to float).
  bool Bool(bool b) { return finite(b ? 1.0f : 0.0f); }
  bool Int(int i) { return finite(integer_to_float(i)); }
  bool Uint(unsigned u) { return finite(static_cast<float>(u)); }
  bool Int64(std::int64_t i) { return finite(integer_to_float(i)); }
  bool Uint64(std::uint64_t u) { return finite(static_cast<float>(u)); }
  bool Double(double d) {
    if (!at_token() && rounds_to_float_exactly(d)) [[likely]]
      return finite(static_cast<float>(d));
    return other_double(d);
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return true; }  // not enabled

  bool String(const char* str, rapidjson::SizeType size, bool /*copy*/) {
    if (skip_base_ != 0) return true;
    if (leaf_ != CompiledSchema::kNone) return array_mismatch("a string");
    if (pending_skip_) return (pending_skip_ = false, true);
    if (pending_ == CompiledSchema::kNone) return fail("/", found_top_level("a string"));
    const std::uint32_t id = take_pending();
    const auto& n = s_.node(id);
    if (n.kind != FieldKind::kCategory || n.field == CompiledSchema::kNone)
      return value_mismatch(id, "a string");
    const auto& vocabulary = s_.schema().fields()[n.field].vocabulary;
    const std::string_view value(str, size);
    auto it = std::find(vocabulary.begin(), vocabulary.end(), value);
    if (it == vocabulary.end())
      it = std::find(vocabulary.begin(), vocabulary.end(), sharp_spelling(value));
    if (it == vocabulary.end()) {
      std::string expected;
      for (const auto& v : vocabulary) expected += " " + v;
      return field_mismatch(id, s_.pointer(id),
                            "unknown value \"" + escaped(value) + "\", expected one of" + expected);
    }
    const auto hot = static_cast<std::size_t>(it - vocabulary.begin());
    for (std::size_t k = 0; k < vocabulary.size(); ++k) {
      const std::int32_t col = slots_[n.slot + k];
      if (col >= 0) row_[col] = k == hot ? 1.0f : 0.0f;
    }
    return true;
  }

  bool StartObject() {
    if (skip_base_ != 0) return enter_skipped();
    if (leaf_ != CompiledSchema::kNone) return array_mismatch("an object") && enter_skipped();
    if (++depth_ > kMaxJsonDepth) return too_deep();
    if (depth_ == 1) {
      stack_[top_++] = CompiledSchema::kRoot;
      return true;
    }
    if (pending_skip_) return start_skip();
    const std::uint32_t id = take_pending();
    if (s_.node(id).field == CompiledSchema::kNone) {
      stack_[top_++] = id;
      return true;
    }
    return value_mismatch(id, "an object") && start_skip();
  }

  // Inlined by force, and kept small: the common case (the key that followed the previous known
  // key last time, see find_key()) is a compare; top-level, unknown and other keys are handled out
  // of line. (With the repeated-key check GCC had left Key() out of line, which cost 14 % of the
  // parse of real AcousticBrainz files, 623 keys each; measured, best of 150 passes.)
  [[gnu::always_inline]] bool Key(const char* str, rapidjson::SizeType size, bool /*copy*/) {
    if (skip_base_ != 0) return true;
    const std::uint32_t parent = stack_[top_ - 1];
    const std::uint32_t guess = next_key_[last_key_];
    std::uint32_t id;
    if (parent != CompiledSchema::kRoot && guess != CompiledSchema::kNone &&
        s_.is_child(guess, parent, str, size)) [[likely]] {
      last_key_ = id = guess;
    } else {
      id = find_key(parent, str, size);
      if (id == CompiledSchema::kNone) return unknown_key(parent, std::string_view(str, size));
    }
    // Each node is one key path: meeting it twice in a file means a repeated key.
    if (seen_[id] == generation_) [[unlikely]]
      return repeated_key(id, std::string_view(str, size));
    seen_[id] = generation_;
    if (s_.node(id).skip) {
      pending_skip_ = true;
    } else {
      pending_ = id;
    }
    return true;
  }

  bool EndObject(rapidjson::SizeType /*members*/) {
    if (skip_base_ != 0) return leave_skipped();
    --depth_;
    --top_;
    return true;
  }

  bool StartArray() {
    if (skip_base_ != 0) return enter_skipped();
    if (leaf_ != CompiledSchema::kNone) {
      if (level_ == 1 && leaf_node_->kind == FieldKind::kMatrix) {
        ++depth_;
        level_ = 2;
        index_ = 0;
        start_run(leaf_node_->slot + row_index_ * leaf_node_->cols,
                  row_index_ < leaf_node_->rows ? leaf_node_->cols : 0);
        return true;
      }
      return array_mismatch("an array") && enter_skipped();
    }
    if (++depth_ > kMaxJsonDepth) return too_deep();
    if (pending_skip_) return start_skip();
    if (pending_ == CompiledSchema::kNone) return fail("/", found_top_level("an array"));
    const std::uint32_t id = take_pending();
    const auto& n = s_.node(id);
    if (n.field == CompiledSchema::kNone ||
        (n.kind != FieldKind::kVector && n.kind != FieldKind::kMatrix &&
         n.kind != FieldKind::kSequence)) {
      return value_mismatch(id, "an array") && start_skip();
    }
    leaf_ = id;
    leaf_node_ = &n;
    leaf_depth_ = depth_;
    if (n.kind == FieldKind::kVector) start_run(n.slot, n.cols);
    level_ = 1;
    index_ = row_index_ = 0;
    seq_count_ = 0;
    seq_mean_ = seq_m2_ = seq_prev_ = 0;
    return true;
  }

  bool EndArray(rapidjson::SizeType /*elements*/) {
    if (skip_base_ != 0) return leave_skipped();
    --depth_;
    in_run_ = false;
    const auto& n = *leaf_node_;
    if (level_ == 2) {
      level_ = 1;
      if (index_ != n.cols) {
        const std::uint32_t id = leaf_;
        leaf_ = CompiledSchema::kNone;
        skip_base_ = leaf_depth_;  // skip the matrix's remaining rows
        return field_mismatch(
            id, s_.pointer(id) + "/" + std::to_string(row_index_),
            "expected " + std::to_string(n.cols) + " numbers, found " + std::to_string(index_));
      }
      ++row_index_;
      return true;
    }
    const std::uint32_t id = leaf_;
    leaf_ = CompiledSchema::kNone;
    level_ = 0;
    switch (n.kind) {
      case FieldKind::kVector:
        if (index_ != n.cols) {
          return field_mismatch(
              id, s_.pointer(id),
              "expected " + std::to_string(n.cols) + " numbers, found " + std::to_string(index_));
        }
        return true;
      case FieldKind::kMatrix:
        if (row_index_ != n.rows) {
          return field_mismatch(id, s_.pointer(id),
                                "expected " + std::to_string(n.rows) + " rows of " +
                                    std::to_string(n.cols) + " numbers, found " +
                                    std::to_string(row_index_) + " rows");
        }
        return true;
      default:
        finish_sequence(n);
        return true;
    }
  }

 private:
  // The node of \p key under \p parent, or kNone, when it is not the guess Key() tried: the
  // feature files of one extractor list their keys in one order, so Key() first tries the key that
  // followed the previous known key last time (a compare instead of a hash and a table probe), and
  // this records what followed. Also keeps the top-level keys (for the error of a file without a
  // feature section) and notes a section.
  [[gnu::noinline]] std::uint32_t find_key(std::uint32_t parent, const char* key,
                                           std::size_t size) {
    if (parent == CompiledSchema::kRoot) top_keys_.emplace_back(key, size);
    const std::uint32_t id = s_.child(parent, key, size);
    if (id != CompiledSchema::kNone) {
      next_key_[last_key_] = id;
      last_key_ = id;
      saw_section_ = saw_section_ || s_.node(id).section;
    }
    return id;
  }

  // A key the schema lacks: its value is skipped, and its name reported.
  [[gnu::noinline]] bool unknown_key(std::uint32_t parent, std::string_view key) {
    unknown(parent, key);
    pending_skip_ = true;
    return true;
  }

  // Out of the inlined parse: building the message is rare and large.
  [[gnu::noinline, gnu::cold]] bool repeated_key(std::uint32_t id, std::string_view key) {
    return fail(s_.pointer(id), duplicate_key(key));
  }

  std::uint32_t take_pending() noexcept {
    const std::uint32_t id = pending_;
    pending_ = CompiledSchema::kNone;
    return id;
  }

 protected:
  // A finite number, converted: the hot paths (the next number of a vector or matrix row, or the
  // value of a scalar field), or number().
  bool finite(float v) {
    if (in_run_) [[likely]] {  // in_run_ implies that nothing is being skipped
      if (index_ < run_length_) {
        const std::int32_t col = run_slots_[index_];
        if (col >= 0) row_[col] = v;
      }
      ++index_;
      return true;
    }
    if (skip_base_ != 0) return true;
    if (leaf_ == CompiledSchema::kNone && !pending_skip_ && pending_ != CompiledSchema::kNone) {
      const auto& n = s_.node(pending_);
      if (n.kind == FieldKind::kScalar && n.field != CompiledSchema::kNone) {
        pending_ = CompiledSchema::kNone;
        store(n.slot, v);
        return true;
      }
    }
    return number(v, NumberText::kFinite);
  }

  // A double that is not finite(): skipped, converted from its text, non-finite or malformed.
  [[gnu::noinline]] bool other_double(double d) {
    if (skip_base_ != 0) return check_number();
    float v;
    const NumberText kind = to_float(d, v);
    if (kind == NumberText::kFinite) return finite(v);
    if (kind == NumberText::kBadToken) return bad_number();
    return number(v, kind);
  }

 private:
  // A number (or a boolean, as 0/1) outside the hot paths.
  [[gnu::noinline]] bool number(float v, NumberText kind) {
    if (leaf_ != CompiledSchema::kNone) return array_value(v, kind, true);
    if (pending_skip_) return (pending_skip_ = false, true);
    if (pending_ == CompiledSchema::kNone) return fail("/", found_top_level("a number"));
    const std::uint32_t id = take_pending();
    const auto& n = s_.node(id);
    if (n.kind != FieldKind::kScalar || n.field == CompiledSchema::kNone)
      return value_mismatch(id, "a number");
    if (kind != NumberText::kFinite && !non_finite(id, "", kind)) return false;
    store(n.slot, v);
    return true;
  }

  // Numbers up to \p length go to the slots from \p slot on (a vector, or one matrix row).
  void start_run(std::uint32_t slot, std::uint32_t length) noexcept {
    in_run_ = true;
    run_slots_ = slots_ + slot;
    run_length_ = length;
  }

  void store(std::uint32_t slot, double v) noexcept {
    const std::int32_t col = slots_[slot];
    if (col >= 0) row_[col] = static_cast<float>(v);
  }

  // A number (or null: counted = false, a missing value) inside the current field's array.
  bool array_value(float v, NumberText kind, bool counted) {
    const auto& n = *leaf_node_;
    if (n.kind == FieldKind::kMatrix && level_ == 1) return array_mismatch("a number");
    if (counted && kind != NumberText::kFinite) {
      const std::string at = level_ == 2 ? std::to_string(row_index_) + "/" + std::to_string(index_)
                                         : std::to_string(index_);
      if (!non_finite(leaf_, at, kind)) return false;
    }
    if (n.kind == FieldKind::kSequence) {
      // Welford's running mean and variance of the inter-beat intervals.
      if (seq_count_ > 0) {
        const double interval = v - seq_prev_;
        const double k = static_cast<double>(seq_count_);
        const double delta = interval - seq_mean_;
        seq_mean_ += delta / k;
        seq_m2_ += delta * (interval - seq_mean_);
      }
      seq_prev_ = v;
      ++seq_count_;
      ++index_;
      return true;
    }
    if (level_ == 2) {
      if (index_ < n.cols && row_index_ < n.rows) store(n.slot + row_index_ * n.cols + index_, v);
    } else if (index_ < n.cols) {
      store(n.slot + index_, v);
    }
    ++index_;
    return true;
  }

  void finish_sequence(const CompiledSchema::Node& n) {
    const double count = static_cast<double>(seq_count_);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const bool has_interval = seq_count_ >= 2;
    store(n.slot + 0, count);
    store(n.slot + 1, has_interval ? seq_mean_ : nan);
    store(n.slot + 2, has_interval ? std::sqrt(seq_m2_ / (count - 1)) : nan);
  }

  // A NaN or infinity token, or a finite decimal beyond the float range (read as +-infinity):
  // counted, and an error under the reject policy.
  bool non_finite(std::uint32_t id, const std::string& index, NumberText kind) {
    ++result_->nonfinite_values;
    if (!reject_non_finite_) return true;
    std::string place = s_.pointer(id);
    if (!index.empty()) place += "/" + index;
    if (kind == NumberText::kOutOfRange) {
      const std::string_view text = number_text();
      std::string shown(text.substr(0, 40));
      if (text.size() > 40) shown += "...";
      return fail(place, "non-finite number: " + shown + " is beyond the float32 range (largest " +
                             kFloatMaxText +
                             ") and reads as infinity, rejected by the non-finite policy");
    }
    return fail(place, "non-finite number (NaN or infinity) rejected by the non-finite policy");
  }

  void clear_field(std::uint32_t id) {
    const auto& n = s_.node(id);
    if (n.field == CompiledSchema::kNone) return;  // an object: its fields stay as they are
    std::size_t count = n.rows * n.cols;
    if (n.kind == FieldKind::kCategory) count = s_.schema().fields()[n.field].vocabulary.size();
    if (n.kind == FieldKind::kSequence) count = std::size(kSequenceSummary);
    for (std::size_t k = 0; k < count; ++k)
      store(n.slot + static_cast<std::uint32_t>(k), static_cast<double>(kNaN));
  }

  // The field \p id is malformed: error, or (lenient) all its columns NaN.
  bool field_mismatch(std::uint32_t id, const std::string& place, const std::string& message) {
    if (!lenient_) return fail(place, message);
    ++result_->shape_mismatches;
    clear_field(id);
    return true;
  }

  // The value of \p id is of the wrong type (found: "a number", "an array", ...).
  bool value_mismatch(std::uint32_t id, const std::string& found) {
    const auto& n = s_.node(id);
    const std::string expected =
        n.field == CompiledSchema::kNone
            ? std::string("an object")
            : (n.kind == FieldKind::kScalar     ? std::string("a number")
               : n.kind == FieldKind::kSequence ? std::string("a list of numbers")
               : n.kind == FieldKind::kCategory
                   ? std::string("a string")
                   : "an array of " + s_.schema().fields()[n.field].shape_text());
    return field_mismatch(id, s_.pointer(id), "expected " + expected + ", found " + found);
  }

  // Inside the current field's array, an element of the wrong type: error, or (lenient) the field
  // becomes NaN and the rest of its array is skipped.
  bool array_mismatch(const std::string& found) {
    const std::uint32_t id = leaf_;
    const auto& n = s_.node(id);
    std::string place = s_.pointer(id);
    std::string expected;
    if (n.kind == FieldKind::kMatrix && level_ == 1) {
      place += "/" + std::to_string(row_index_);
      expected = "an array of " + std::to_string(n.cols) + " numbers";
    } else {
      place += level_ == 2 ? "/" + std::to_string(row_index_) + "/" + std::to_string(index_)
                           : "/" + std::to_string(index_);
      expected = "a number";
    }
    leaf_ = CompiledSchema::kNone;
    in_run_ = false;
    skip_base_ = leaf_depth_;
    return field_mismatch(id, place, "expected " + expected + ", found " + found);
  }

  void unknown(std::uint32_t parent, std::string_view key) {
    std::string name = s_.dotted(parent);
    if (!name.empty()) name += '.';
    name += escaped(key);
    if (parent != CompiledSchema::kRoot) result_->new_section_fields = true;
    result_->unknown_fields.push_back(std::move(name));
  }

  bool start_skip() {
    pending_skip_ = false;
    skip_base_ = depth_;
    return true;
  }
  bool enter_skipped() { return ++depth_ <= kMaxJsonDepth || too_deep(); }
  bool leave_skipped() {
    if (--depth_ < skip_base_) skip_base_ = 0;
    return true;
  }

  const CompiledSchema& s_;
  const std::int32_t* slots_;
  const bool reject_non_finite_;
  const bool lenient_;
  float* row_ = nullptr;
  RowResult* result_ = nullptr;

  std::uint32_t depth_ = 0;      // nesting depth of the current event
  std::uint32_t skip_base_ = 0;  // != 0: inside a skipped container opened at this depth
  std::uint32_t pending_ = CompiledSchema::kNone;  // the node whose value comes next
  bool pending_skip_ = false;                      // the next value is skipped
  std::uint32_t stack_[kMaxJsonDepth + 1] = {};    // object nodes being filled
  std::uint32_t top_ = 0;

  std::uint32_t leaf_ = CompiledSchema::kNone;  // the vector/matrix/sequence field being read
  const CompiledSchema::Node* leaf_node_ = nullptr;
  bool in_run_ = false;  // inside a vector or matrix row: numbers take the fast path
  const std::int32_t* run_slots_ = nullptr;
  std::uint32_t run_length_ = 0;
  std::uint32_t leaf_depth_ = 0;
  std::uint32_t level_ = 0;  // 1: in the field's array, 2: in a matrix row
  std::uint32_t index_ = 0;
  std::uint32_t row_index_ = 0;
  std::uint64_t seq_count_ = 0;
  double seq_prev_ = 0, seq_mean_ = 0, seq_m2_ = 0;

  bool saw_section_ = false;
  std::vector<std::string> top_keys_;

  // Key order learned from the files parsed so far (find_key()): node -> the node of the next key.
  std::vector<std::uint32_t> next_key_;
  std::uint32_t last_key_ = CompiledSchema::kRoot;

  // The keys met in the file being parsed: node -> the parse's generation when its key was met.
  std::vector<std::uint32_t> seen_;
  std::uint32_t generation_ = 0;
};

// The handler of the in-situ first try (parse()), which runs without kParseNanAndInfFlag: a NaN
// or infinity token fails it, and reparse() reads the file again with the token checks. So no
// number it meets is a token, and Double() need not look at the text (at_token()).
class RowParser::FirstTryHandler final : public Handler {
 public:
  using Handler::Handler;
  bool Double(double d) {
    if (rounds_to_float_exactly(d)) [[likely]]
      return finite(static_cast<float>(d));
    return other_double(d);
  }
};

namespace {

// RapidJSON's number events, passed on to \p H: RapidJSON's own ParseNumber for the numbers
// scan_number() leaves (the specialization below is for FirstTryHandler itself).
template <typename H>
struct NumberEvents {
  H& handler;
  bool Int(int i) { return handler.Int(i); }
  bool Uint(unsigned u) { return handler.Uint(u); }
  bool Int64(std::int64_t i) { return handler.Int64(i); }
  bool Uint64(std::uint64_t u) { return handler.Uint64(u); }
  bool Double(double d) { return handler.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) {
    return handler.RawNumber(s, n, copy);
  }
};

static_assert(FileBuffer::kPadding >= kScanReadAhead, "scan_number() reads ahead in the buffer");

}  // namespace
}  // namespace moodboost::detail

// The loader's first try reads numbers with scan_number() (json_number.hpp), 8 digits at a step,
// instead of RapidJSON's digit-by-digit loop, which took two thirds of the parse's instructions;
// whatever it does not take (long or malformed numbers, tokens) RapidJSON reads as before. An
// explicit specialization of RapidJSON's own ParseNumber for this one handler: the rest of the
// reader, and every other parse, is RapidJSON's. The handler gets RapidJSON's event for the
// number (send_scanned(): Double's value is within a few ulps of the decimal, which the handlers
// round to the correct float as they do RapidJSON's own) while the stream is still at the
// number's first byte, as during RapidJSON's own number events (number_text()).
template <>
template <>
void rapidjson::Reader::ParseNumber<moodboost::detail::kFeatureParseFlagsFirstTry,
                                    rapidjson::InsituStringStream,
                                    moodboost::detail::RowParser::FirstTryHandler>(
    rapidjson::InsituStringStream& is, moodboost::detail::RowParser::FirstTryHandler& handler) {
  moodboost::detail::ScannedNumber n;
  if (!moodboost::detail::scan_number(is.src_, n)) {
    moodboost::detail::NumberEvents<moodboost::detail::RowParser::FirstTryHandler> events{handler};
    ParseNumber<moodboost::detail::kFeatureParseFlagsFirstTry>(is, events);
    return;
  }
  if (!moodboost::detail::send_scanned(n, handler)) {
    RAPIDJSON_PARSE_ERROR_NORETURN(kParseErrorTermination, is.Tell());  // as RapidJSON's own
    return;
  }
  is.src_ = const_cast<char*>(n.end);
}

namespace moodboost::detail {

// The in-situ parse of RowParser::parse() is flattened: RapidJSON's reader with every handler call
// inlined into one function (about 9% faster than GCC's own inlining choices, measured on the
// bench's files). Not under the sanitizers, where the flattened function takes minutes to
// compile and nobody measures speed.
#if defined(__SANITIZE_ADDRESS__)
#define MOODBOOST_FLATTEN
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MOODBOOST_FLATTEN
#endif
#endif
#ifndef MOODBOOST_FLATTEN
#define MOODBOOST_FLATTEN [[gnu::flatten]]
#endif

namespace {
template <unsigned Flags, typename Handler>
MOODBOOST_FLATTEN rapidjson::ParseResult fast_parse(rapidjson::Reader& reader,
                                                    rapidjson::InsituStringStream& stream,
                                                    Handler& handler) {
  return reader.Parse<Flags>(stream, handler);
}
}  // namespace
#undef MOODBOOST_FLATTEN

RowParser::RowParser(const CompiledSchema& schema, NonFinitePolicy non_finite, ShapePolicy shape)
    : handler_(std::make_unique<FirstTryHandler>(schema, non_finite, shape)) {}

RowParser::~RowParser() = default;

bool RowParser::parse(FileBuffer& buffer, const std::string& file, float* row, RowResult& result) {
  handler_->start(row, &result);
  check_prefix(buffer, file);
  handler_->reset();
  rapidjson::InsituStringStream stream(buffer.data());
  handler_->set_source(buffer.view(), &stream.src_);
  // Files with tokens come in sets (a re-serialised collection): after the first, reading them
  // in the first try costs less than parsing each such file twice.
  const rapidjson::ParseResult parsed =
      tokens_
          ? fast_parse<kFeatureParseFlagsInsitu>(reader_, stream, static_cast<Handler&>(*handler_))
          : fast_parse<kFeatureParseFlagsFirstTry>(reader_, stream, *handler_);
  if (!parsed || stream.Tell() != buffer.size()) return false;
  handler_->finish(file);
  return true;
}

void RowParser::reparse(FileBuffer& buffer, const std::string& file, float* row,
                        RowResult& result) {
  handler_->start(row, &result);
  // As a Handler: the reparse accepts NaN and infinity tokens, which Handler::Double() checks.
  run_parse(reader_, buffer, static_cast<Handler&>(*handler_), file);
  tokens_ = tokens_ || result.nonfinite_values > 0;
}

// =============================================================================================
// Discovery: the fields of one file, with their shapes.

namespace {

class FieldCollector : public HandlerError {
 public:
  void reset() {
    fields_.clear();
    path_.clear();
    key_.clear();
    top_keys_.clear();
    depth_ = skip_base_ = 0;
    pending_skip_ = false;
    clear_error();
    array_depth_ = 0;
  }
  void finish(const std::string& file) {
    if (std::none_of(top_keys_.begin(), top_keys_.end(), is_section))
      throw_no_section(file, top_keys_);
  }
  std::vector<FeatureField> take() { return std::move(fields_); }

  bool Null() { return value(Value::kNull); }
  bool Bool(bool) { return value(Value::kNumber); }
  bool Int(int) { return value(Value::kNumber); }
  bool Uint(unsigned) { return value(Value::kNumber); }
  bool Int64(std::int64_t) { return value(Value::kNumber); }
  bool Uint64(std::uint64_t) { return value(Value::kNumber); }
  bool Double(double) { return check_number() && value(Value::kNumber); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return true; }  // not enabled
  bool String(const char*, rapidjson::SizeType, bool) { return value(Value::kString); }

  bool Key(const char* str, rapidjson::SizeType size, bool) {
    if (skip_base_ != 0) return true;
    key_.assign(str, size);
    auto& seen = object_keys_[depth_ - 1];
    if (std::find(seen.begin(), seen.end(), key_) != seen.end()) {
      std::string place = pointer_of(path_);
      append_pointer_token(place, key_);
      return fail(std::move(place), duplicate_key(key_));
    }
    seen.push_back(key_);
    if (depth_ == 1) {
      top_keys_.push_back(key_);
      pending_skip_ = !is_section(key_);
    }
    return true;
  }

  bool StartObject() {
    if (++depth_ > kMaxJsonDepth) return too_deep();
    if (skip_base_ != 0) return true;
    if (array_depth_ != 0) {  // an object inside a list: no column can come from it
      unsupported_ = true;
      skip_base_ = depth_;
      return true;
    }
    if (depth_ > 1) {
      if (pending_skip_) return start_skip();
      path_.push_back(key_);
    }
    // The keys of this object, for the repeated-key check (the vectors are reused).
    if (object_keys_.size() < depth_) object_keys_.resize(depth_);
    object_keys_[depth_ - 1].clear();
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    if (leave_skipped()) return true;
    --depth_;
    if (array_depth_ == 0 && !path_.empty()) path_.pop_back();
    return true;
  }

  bool StartArray() {
    if (++depth_ > kMaxJsonDepth) return too_deep();
    if (skip_base_ != 0) return true;
    if (depth_ == 1) return fail("/", found_top_level("an array"));
    if (pending_skip_) return start_skip();
    if (array_depth_ == 0 && path_.empty())
      return fail(pointer_of({key_}), "expected an object, found an array");
    if (array_depth_ == 0) {
      array_depth_ = depth_;
      elements_ = 0;
      numbers_ = rows_ = 0;
      unsupported_ = false;
      row_length_ = first_row_length_ = 0;
      bad_row_ = kNoRow;
      return true;
    }
    if (depth_ == array_depth_ + 1) {
      ++elements_;
      row_length_ = 0;
      return true;
    }
    unsupported_ = true;  // nested deeper than a matrix
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    if (leave_skipped()) return true;
    --depth_;
    if (array_depth_ == 0) return true;
    if (depth_ == array_depth_) {  // a row of a matrix ends
      if (rows_ == 0) {
        first_row_length_ = row_length_;
      } else if (row_length_ != first_row_length_ && bad_row_ == kNoRow) {
        bad_row_ = rows_;
        bad_row_length_ = row_length_;
      }
      ++rows_;
      return true;
    }
    if (depth_ + 1 == array_depth_) return end_field();
    return true;
  }

 private:
  enum class Value { kNumber, kString, kNull };
  static constexpr std::size_t kNoRow = static_cast<std::size_t>(-1);

  bool value(Value kind) {
    if (skip_base_ != 0) return true;
    if (depth_ == 0) {
      return fail("/", found_top_level(kind == Value::kNumber   ? "a number"
                                       : kind == Value::kString ? "a string"
                                                                : "null"));
    }
    if (array_depth_ != 0) {
      if (kind == Value::kString) unsupported_ = true;
      if (depth_ == array_depth_) {
        ++elements_;
        ++numbers_;
      } else {
        ++row_length_;
      }
      return true;
    }
    if (pending_skip_) {
      pending_skip_ = false;
      return true;
    }
    if (kind == Value::kNull) return true;  // null says nothing about a field's shape
    if (path_.empty()) {
      return fail(pointer_of({key_}), std::string("expected an object, found ") +
                                          (kind == Value::kNumber ? "a number" : "a string"));
    }
    FeatureField f;
    f.path = path_;
    f.path.push_back(key_);
    if (kind == Value::kString) {
      f.vocabulary = category_vocabulary(key_);
      f.kind = f.vocabulary.empty() ? FieldKind::kIgnored : FieldKind::kCategory;
    }
    fields_.push_back(std::move(f));
    return true;
  }

  bool end_field() {
    array_depth_ = 0;
    FeatureField f;
    f.path = path_;
    f.path.push_back(key_);
    const std::size_t row_arrays = elements_ - numbers_;
    if (is_sequence_field(f.path)) {
      f.kind = unsupported_ || row_arrays > 0 ? FieldKind::kIgnored : FieldKind::kSequence;
    } else if (unsupported_ || (numbers_ > 0 && row_arrays > 0)) {
      f.kind = FieldKind::kIgnored;
    } else if (row_arrays > 0) {
      if (bad_row_ != kNoRow) {
        return fail(pointer_of(f.path) + "/" + std::to_string(bad_row_),
                    "expected " + std::to_string(first_row_length_) +
                        " numbers (as row 0), found " + std::to_string(bad_row_length_));
      }
      f.kind = first_row_length_ == 0 ? FieldKind::kIgnored : FieldKind::kMatrix;
      if (f.kind == FieldKind::kMatrix) {
        f.rows = rows_;
        f.cols = first_row_length_;
      }
    } else {
      f.kind = FieldKind::kVector;
      f.cols = numbers_;
    }
    fields_.push_back(std::move(f));
    return true;
  }

  bool start_skip() {
    pending_skip_ = false;
    skip_base_ = depth_;
    return true;
  }
  // Handles the end of a container while skipping; true when the event was consumed.
  bool leave_skipped() {
    if (skip_base_ == 0) return false;
    if (--depth_ < skip_base_) skip_base_ = 0;
    return true;
  }

  std::vector<FeatureField> fields_;
  std::vector<std::string> path_;
  std::string key_;
  std::vector<std::string> top_keys_;
  std::vector<std::vector<std::string>> object_keys_;  // the keys met in each open object
  std::uint32_t depth_ = 0;
  std::uint32_t skip_base_ = 0;
  bool pending_skip_ = false;
  // The array being analysed (array_depth_ != 0).
  std::uint32_t array_depth_ = 0;
  std::size_t elements_ = 0, numbers_ = 0, rows_ = 0;
  std::size_t row_length_ = 0, first_row_length_ = 0;
  std::size_t bad_row_ = kNoRow, bad_row_length_ = 0;
  bool unsupported_ = false;
};

// The ceiling of the benchmark: parse and validate, store nothing.
struct NoopHandler {
  std::size_t events = 0;
  bool Null() { return ++events, true; }
  bool Bool(bool) { return ++events, true; }
  bool Int(int) { return ++events, true; }
  bool Uint(unsigned) { return ++events, true; }
  bool Int64(std::int64_t) { return ++events, true; }
  bool Uint64(std::uint64_t) { return ++events, true; }
  bool Double(double) { return ++events, true; }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return ++events, true; }
  bool String(const char*, rapidjson::SizeType, bool) { return ++events, true; }
  bool StartObject() { return ++events, true; }
  bool Key(const char*, rapidjson::SizeType, bool) { return ++events, true; }
  bool EndObject(rapidjson::SizeType) { return ++events, true; }
  bool StartArray() { return ++events, true; }
  bool EndArray(rapidjson::SizeType) { return ++events, true; }
};

}  // namespace

std::vector<FeatureField> collect_fields(FileBuffer& buffer, const std::string& file) {
  rapidjson::Reader reader;
  FieldCollector collector;
  run_parse(reader, buffer, collector, file);
  return collector.take();
}

std::size_t parse_noop(FileBuffer& buffer, const std::string& file) {
  thread_local rapidjson::Reader reader;
  NoopHandler handler;
  rapidjson::StringStream stream(buffer.data());
  const rapidjson::ParseResult result = reader.Parse<kFeatureParseFlags>(stream, handler);
  if (!result) throw_syntax_error(buffer, result, file);
  return handler.events;
}

// =============================================================================================
// FieldUnion

bool CanonicalPathLess::operator()(const std::vector<std::string>& a,
                                   const std::vector<std::string>& b) const {
  auto rank = [](const std::vector<std::string>& p) {
    if (p.empty()) return std::size_t{0};
    const auto it = std::find(kSections.begin(), kSections.end(), p[0]);
    return static_cast<std::size_t>(it - kSections.begin());
  };
  const std::size_t ra = rank(a), rb = rank(b);
  if (ra != rb) return ra < rb;
  return a < b;  // std::string compares bytes as char; keys are ASCII in practice
}

void FieldUnion::add(const std::vector<FeatureField>& fields, const std::string& file) {
  for (const auto& f : fields) {
    const auto it = fields_.find(f.path);
    if (it != fields_.end()) {
      const FeatureField& old = it->second.field;
      if (old.kind != f.kind || old.rows != f.rows || old.cols != f.cols ||
          old.vocabulary != f.vocabulary) {
        throw DataError("feature files disagree on " + escaped(f.name()) + ": " + file + " has " +
                        f.shape_text() + " (" + std::string(to_string(f.kind)) + "), " +
                        it->second.file + " has " + old.shape_text() + " (" +
                        std::string(to_string(old.kind)) + ")");
      }
      continue;
    }
    // A key cannot be a field in one file and an object holding fields in another.
    std::vector<std::string> prefix;
    for (std::size_t i = 0; i + 1 < f.path.size(); ++i) {
      prefix.push_back(f.path[i]);
      const auto p = fields_.find(prefix);
      if (p != fields_.end()) {
        throw DataError("feature files disagree on " + join_dotted(prefix) + ": " + p->second.file +
                        " has " + p->second.field.shape_text() + ", " + file +
                        " has an object holding " + escaped(f.name()));
      }
    }
    const auto next = fields_.upper_bound(f.path);
    if (next != fields_.end() && next->first.size() > f.path.size() &&
        std::equal(f.path.begin(), f.path.end(), next->first.begin())) {
      throw DataError("feature files disagree on " + escaped(f.name()) + ": " + file + " has " +
                      f.shape_text() + ", " + next->second.file + " has an object holding " +
                      escaped(next->second.field.name()));
    }
    fields_.emplace(f.path, Seen{f, file});
  }
}

std::vector<FeatureField> FieldUnion::fields() const {
  std::vector<FeatureField> out;
  out.reserve(fields_.size());
  for (const auto& [path, seen] : fields_) out.push_back(seen.field);
  return out;
}

const std::string& FieldUnion::first_file(const std::vector<std::string>& path) const {
  static const std::string kUnknown;
  const auto it = fields_.find(path);
  return it == fields_.end() ? kUnknown : it->second.file;
}

}  // namespace moodboost::detail
