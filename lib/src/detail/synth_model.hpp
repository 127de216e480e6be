// The signal model of `moodboost synth`: from a track's tags, artist, album and id to every
// descriptor of an Essentia "music 1.0" file. synth_model_markdown() documents it from the same
// tables (synth_model.cpp), so the description and the generator cannot drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "moodboost/synth.hpp"

namespace moodboost::detail {

/// Frames simulated per track for every frame-level descriptor (Essentia has thousands; the
/// minimum and maximum are extended to match, see kExtremeExtension).
inline constexpr std::size_t kSynthFrames = 128;

/// The nine statistics of a music-1.0 stats dict, in Essentia's (alphabetical) key order.
inline constexpr std::array<std::string_view, 9> kStatNames = {
    "dmean", "dmean2", "dvar", "dvar2", "max", "mean", "median", "min", "var"};

/// The nine statistics of one frame-level value.
struct Stats9 {
  std::array<double, 9> values{};  // in kStatNames order
  double& dmean() { return values[0]; }
  double& dmean2() { return values[1]; }
  double& dvar() { return values[2]; }
  double& dvar2() { return values[3]; }
  double& max() { return values[4]; }
  double& mean() { return values[5]; }
  double& median() { return values[6]; }
  double& min() { return values[7]; }
  double& var() { return values[8]; }
};

/// A value of a section: what the JSON writer needs to print it in Essentia's layout.
struct Descriptor {
  enum class Kind { kReal, kInteger, kStats, kVectorStats, kList, kCepstrum, kString };
  std::string_view name;
  Kind kind = Kind::kReal;
  double real = 0.0;          // kReal, kInteger
  std::vector<Stats9> stats;  // kStats: one; kVectorStats: one per element
  std::vector<double> list;   // kList; kCepstrum: 13 means, 169 cov, 169 icov
  std::string text;           // kString
};

/// Every section of one synthetic file. Sections hold their descriptors in any order; the
/// writer puts them in Essentia's.
struct TrackDescriptors {
  std::vector<Descriptor> lowlevel, rhythm, tonal;
  // metadata.audio_properties and tags
  double length = 0.0, replay_gain = 0.0;
  long bit_rate = 0;
  std::string md5;
};

/// Generates all descriptors of \p track (deterministic in (seed, track)).
TrackDescriptors synthesize_track(const Track& track, std::uint64_t seed);

/// Writes \p d as Essentia's own JSON output does (top-level keys at column 0, 4-space indent,
/// lists inline, 12 significant digits of the float32 value), metadata marked synthetic.
void write_essentia_json(const TrackDescriptors& d, const Track& track, std::uint64_t seed,
                         std::string& out);

/// The mood factors, production factors and effect tables, for documentation.
struct FactorEffect {
  std::string_view family;
  double coefficient;
};
std::span<const std::string_view> mood_factor_names();
std::span<const std::string_view> production_factor_names();
/// Effects of mood factor \p k (one row per descriptor family it shifts).
std::vector<FactorEffect> mood_factor_effects(std::size_t k);
/// Effects of production factor \p j.
std::vector<FactorEffect> production_factor_effects(std::size_t j);
/// Loadings of a tag on the mood factors (short or full name; unknown names get loadings derived
/// from a hash of the name).
std::array<double, 8> tag_loadings(std::string_view tag);
/// Whether the loadings of \p tag come from the hand-written table.
bool tag_has_semantic_loadings(std::string_view tag);

/// One descriptor's generation parameters, for documentation.
struct DescriptorDoc {
  std::string name;       // e.g. "lowlevel.spectral_centroid"
  std::string curve;      // e.g. "exp, <= 22050"
  double median = 0.0;    // value at loc = 0 (frame median for frame-level descriptors)
  double track_sd = 0.0;  // latent sd per unit of the family location
  double frame_sd = 0.0;  // latent sd over frames (0 for per-track numbers)
  double rho = 0.0;       // frame autocorrelation (0 for per-track numbers)
  std::string min_rule;   // how min departs from the simulated frames, or empty
};
/// The frame-level descriptors with a stats dict (silence rates and vectors not included).
std::vector<DescriptorDoc> frame_descriptor_docs();
/// Markdown paragraphs with the parameters of the band energies, six-band descriptors and
/// cepstra.
std::string vector_descriptor_notes();
/// The plain per-track numbers computed from one family location.
std::vector<DescriptorDoc> track_scalar_docs();

/// Noise levels and gains of the latent model (documented in SYNTHETIC.md).
struct LatentScales {
  double tag_gain;                // g: mood = g * m(tags) + ...
  double artist_mood_sd;          // artist-level mood nuisance
  double album_mood_sd;           // album-level mood nuisance
  double track_mood_sd;           // track-level mood noise
  double artist_prod_sd;          // production factors per artist
  double album_prod_sd;           // ... per album
  double track_prod_sd;           // ... per track
  double family_noise_sd;         // independent noise of each descriptor family's location
  double signature_shift;         // private tag signature shift (in element noise units)
  std::size_t signature_targets;  // elements each tag's private signature shifts
};
const LatentScales& latent_scales();

/// Names of the elements a private signature can shift (e.g. "lowlevel.mfcc.mean.4").
std::vector<std::string> signature_target_names();
/// The private signature elements of \p tag with signs (indices into signature_target_names()).
std::vector<std::pair<std::size_t, double>> tag_signature(std::string_view tag, std::uint64_t seed);

}  // namespace moodboost::detail
