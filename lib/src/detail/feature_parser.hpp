// The SAX side of the feature loader: a schema compiled into a key table, the handler that parses
// one file straight into one matrix row, the handler that discovers a file's fields, and the
// no-op parse (parse_files_noop). RapidJSON stays inside lib/src.
#pragma once

#include <rapidjson/reader.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "detail/file_buffer.hpp"
#include "detail/json_util.hpp"
#include "detail/unaligned.hpp"
#include "moodboost/feature_schema.hpp"
#include "moodboost/features.hpp"

namespace moodboost::detail {

/// The RapidJSON flags of every feature-file parse (the loader's and the discovery's): NaN/Infinity
/// tokens accepted (and checked whole by the handlers), UTF-8 validated, numbers in RapidJSON's
/// fast normal precision, which the handlers round to the correct float (detail/json_number.hpp).
inline constexpr unsigned kFeatureParseFlags =
    rapidjson::kParseNanAndInfFlag | rapidjson::kParseValidateEncodingFlag;
/// The loader's first try: in situ, and without the NaN/Infinity tokens, which are rare (none in
/// the files AcousticBrainz distributes) and cost a look at every number's text. A file it fails
/// on, a token included, is parsed again from its original bytes with kFeatureParseFlags, which
/// reads the tokens or places the error. Once a file of a RowParser held tokens, its later first
/// tries read them too (kFeatureParseFlagsInsitu): files with tokens come in sets.
inline constexpr unsigned kFeatureParseFlagsFirstTry =
    rapidjson::kParseValidateEncodingFlag | rapidjson::kParseInsituFlag;
inline constexpr unsigned kFeatureParseFlagsInsitu =
    kFeatureParseFlags | rapidjson::kParseInsituFlag;

/// A FeatureSchema compiled for parsing: one node per JSON key of the schema's fields (plus the
/// sections and `metadata`), an open-addressing table (parent node, key) -> node, and for each
/// field a run of slots mapping its numbers to matrix columns (-1 = not selected).
class CompiledSchema {
 public:
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  static constexpr std::uint32_t kRoot = 0;

  struct Node {
    std::uint32_t parent = kNone;
    std::uint32_t key_begin = 0;  ///< into the key arena
    std::uint32_t key_size = 0;
    std::uint32_t field = kNone;  ///< index into schema.fields(); kNone for an object node
    FieldKind kind = FieldKind::kScalar;
    std::uint32_t rows = 1, cols = 1;
    std::uint32_t slot = 0;  ///< first slot of the field
    bool skip = false;       ///< parse its value without storing (metadata, nothing selected)
    bool section = false;    ///< lowlevel, rhythm or tonal
  };

  explicit CompiledSchema(const FeatureSchema& schema);

  /// The child of \p parent called \p key, or kNone.
  [[nodiscard]] std::uint32_t child(std::uint32_t parent, const char* key,
                                    std::size_t size) const noexcept {
    std::uint64_t h = hash_key(parent, key, size);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Entry& e = table_[i];
      if (e.node == kNone) return kNone;
      if (e.hash == static_cast<std::uint32_t>(h) && e.parent == parent) {
        const Node& n = nodes_[e.node];
        if (n.key_size == size && same_bytes(keys_.data() + n.key_begin, key, size)) return e.node;
      }
    }
  }
  /// True when node \p id is the child of \p parent called \p key (a compare, no hash).
  [[nodiscard]] bool is_child(std::uint32_t id, std::uint32_t parent, const char* key,
                              std::size_t size) const noexcept {
    const Node& n = nodes_[id];
    return n.parent == parent && n.key_size == size &&
           same_bytes(keys_.data() + n.key_begin, key, size);
  }
  [[nodiscard]] const Node& node(std::uint32_t id) const noexcept { return nodes_[id]; }
  [[nodiscard]] std::size_t node_count() const noexcept { return nodes_.size(); }
  [[nodiscard]] const std::int32_t* slots() const noexcept { return slots_.data(); }
  [[nodiscard]] const FeatureSchema& schema() const noexcept { return *schema_; }
  [[nodiscard]] std::size_t columns() const noexcept { return schema_->size(); }
  /// JSON pointer of a node: "/lowlevel/mfcc/cov".
  [[nodiscard]] std::string pointer(std::uint32_t id) const;
  /// Dotted name of a node: "lowlevel.mfcc.cov".
  [[nodiscard]] std::string dotted(std::uint32_t id) const;

 private:
  struct Entry {
    std::uint32_t parent = kNone;
    std::uint32_t node = kNone;
    std::uint32_t hash = 0;
  };
  // Keys are short (about 4-30 bytes): words compared inline beat a call to memcmp and a byte
  // loop. Only the \p size bytes are read: a short key is compared as two words that overlap
  // (its first and its last 8, 4 or 2 bytes).
  template <typename Word>
  static bool same_ends(const char* a, const char* b, std::size_t size) noexcept {
    const std::size_t last = size - sizeof(Word);
    return ((load_unaligned<Word>(a) ^ load_unaligned<Word>(b)) |
            (load_unaligned<Word>(a + last) ^ load_unaligned<Word>(b + last))) == 0;
  }
  static bool same_bytes(const char* a, const char* b, std::size_t size) noexcept {
    if (size >= 8) {
      for (; size > 16; size -= 8, a += 8, b += 8) {
        if (load_unaligned<std::uint64_t>(a) != load_unaligned<std::uint64_t>(b)) return false;
      }
      return same_ends<std::uint64_t>(a, b, size);
    }
    if (size >= 4) return same_ends<std::uint32_t>(a, b, size);
    if (size >= 2) return same_ends<std::uint16_t>(a, b, size);
    return size == 0 || *a == *b;
  }
  static std::uint64_t hash_key(std::uint32_t parent, const char* key, std::size_t size) noexcept {
    std::uint64_t h =
        0xcbf29ce484222325ULL ^ (static_cast<std::uint64_t>(parent) * 0x9E3779B97F4A7C15ULL);
    for (std::size_t i = 0; i < size; ++i)
      h = (h ^ static_cast<unsigned char>(key[i])) * 0x100000001b3ULL;
    return h ^ (h >> 29);
  }
  std::uint32_t add_node(std::uint32_t parent, const std::string& key);
  void insert(std::uint32_t node);

  const FeatureSchema* schema_;
  std::vector<Node> nodes_;
  std::string keys_;
  std::vector<Entry> table_;
  std::size_t mask_ = 0;
  std::vector<std::int32_t> slots_;
};

/// What parsing one file found besides the numbers.
struct RowResult {
  std::size_t nonfinite_values = 0;
  std::size_t shape_mismatches = 0;
  std::size_t nan_cells = 0;
  std::vector<std::string> unknown_fields;  ///< dotted names of keys the schema lacks
  bool new_section_fields = false;  ///< some unknown field lies inside lowlevel/rhythm/tonal
};

/// Parses feature files into rows of a compiled schema. One per thread; reusable.
class RowParser {
 public:
  RowParser(const CompiledSchema& schema, NonFinitePolicy non_finite, ShapePolicy shape);
  ~RowParser();
  RowParser(const RowParser&) = delete;
  RowParser& operator=(const RowParser&) = delete;

  /// Parses \p buffer in situ into \p row, which has schema.columns() floats; every column the
  /// file does not set is NaN. The parse overwrites the buffer. False when it failed: then put the
  /// file's bytes back into \p buffer and call reparse(), which parses them again without
  /// overwriting them, to place the error on them (or to read the NaN/Infinity tokens, which this
  /// first try refuses, and Essentia's bare nan/inf). Keeping a copy of every file for those rare
  /// cases would cost more than reading the failed ones again.
  [[nodiscard]] bool parse(FileBuffer& buffer, const std::string& file, float* row,
                           RowResult& result);
  /// After parse() returned false, with the file's bytes in \p buffer again: parses them into
  /// \p row, or throws ParseError naming \p file.
  void reparse(FileBuffer& buffer, const std::string& file, float* row, RowResult& result);

  // The SAX handlers (feature_parser.cpp). Named here, not private, for the specialization of
  // RapidJSON's number parsing that the first try's handler gets there.
  class Handler;
  class FirstTryHandler;

 private:
  rapidjson::Reader reader_;
  std::unique_ptr<FirstTryHandler> handler_;
  bool tokens_ = false;  ///< a reparsed file held NaN/Infinity tokens: first tries read them
};

/// The fields of one file in document order (see discover_fields()). Throws ParseError.
std::vector<FeatureField> collect_fields(FileBuffer& buffer, const std::string& file);

/// Canonical order of field paths: sections lowlevel, rhythm, tonal, then keys by byte value.
struct CanonicalPathLess {
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const;
};

/// The union of the fields of several files, with the file each field was first seen in.
class FieldUnion {
 public:
  /// Adds the fields of \p file. Throws DataError naming both files when a field's kind or shape
  /// differs from an earlier file's, or when a key is a field in one file and an object in another.
  void add(const std::vector<FeatureField>& fields, const std::string& file);
  /// The fields in canonical order.
  [[nodiscard]] std::vector<FeatureField> fields() const;
  /// The file a field was first seen in ("" when unknown).
  [[nodiscard]] const std::string& first_file(const std::vector<std::string>& path) const;
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }

 private:
  struct Seen {
    FeatureField field;
    std::string file;
  };
  std::map<std::vector<std::string>, Seen, CanonicalPathLess> fields_;
};

/// Parses \p buffer with a handler that does nothing, with the loader's RapidJSON flags (not in
/// situ). Returns the number of SAX events. Throws ParseError on malformed JSON.
std::size_t parse_noop(FileBuffer& buffer, const std::string& file);

}  // namespace moodboost::detail
