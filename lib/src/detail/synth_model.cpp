// The synth signal model (see synth_model.hpp, and SYNTHETIC.md written from these tables).
//
// Orders of magnitude and shapes were chosen by looking at real AcousticBrainz music-1.0 files
// (the samples described in ../shared/data/acousticbrainz-samples/SCHEMA.md); every constant
// below is a rounded, hand-picked value, not a copy of a file.
#include "detail/synth_model.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "detail/synth_random.hpp"

namespace moodboost::detail {
namespace {

constexpr double kLn10 = 2.302585092994046;

std::string format_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Latent structure

constexpr std::array<std::string_view, 8> kMoodFactors = {
    "energy", "valence", "brightness", "tension", "space", "groove", "epic", "warmth"};
constexpr std::array<std::string_view, 3> kProductionFactors = {"gain", "eq_tilt", "noise_floor"};

constexpr LatentScales kScales{
    .tag_gain = 1.6,
    .artist_mood_sd = 0.45,
    .album_mood_sd = 0.3,
    .track_mood_sd = 0.55,
    .artist_prod_sd = 0.8,
    .album_prod_sd = 0.4,
    .track_prod_sd = 0.3,
    .family_noise_sd = 1.0,
    .signature_shift = 0.9,
    .signature_targets = 4,
};

// Descriptor families: each has one location per track, loc = sum of mood effects + sum of
// production effects + N(0, family_noise_sd^2). A descriptor's values move with its family's
// location (scaled by the descriptor's own between-track spread).
constexpr std::string_view kFamilies[] = {
    // frame-level descriptors with a stats dict (one family each, same name)
    "barkbands_crest",
    "barkbands_flatness_db",
    "barkbands_kurtosis",
    "barkbands_skewness",
    "barkbands_spread",
    "dissonance",
    "erbbands_crest",
    "erbbands_flatness_db",
    "erbbands_kurtosis",
    "erbbands_skewness",
    "erbbands_spread",
    "hfc",
    "melbands_crest",
    "melbands_flatness_db",
    "melbands_kurtosis",
    "melbands_skewness",
    "melbands_spread",
    "pitch_salience",
    "spectral_centroid",
    "spectral_complexity",
    "spectral_decrease",
    "spectral_energy",
    "spectral_energyband_high",
    "spectral_energyband_low",
    "spectral_energyband_middle_high",
    "spectral_energyband_middle_low",
    "spectral_entropy",
    "spectral_flux",
    "spectral_kurtosis",
    "spectral_rms",
    "spectral_rolloff",
    "spectral_skewness",
    "spectral_spread",
    "spectral_strongpeak",
    "zerocrossingrate",
    "beats_loudness",
    "chords_strength",
    "hpcp_entropy",
    // the rest
    "silence_rate",
    "average_loudness",
    "dynamic_complexity",
    "spectrum_level",
    "spectrum_tilt",
    "mfcc_level",
    "mfcc_tilt",
    "gfcc_level",
    "gfcc_tilt",
    "spectral_contrast_coeffs",
    "spectral_contrast_valleys",
    "beats_loudness_band_ratio",
    "bpm",
    "bpm_peak_weight",
    "danceability",
    "onset_rate",
    "key_mode",
    "key_strength",
    "chords_changes_rate",
    "chords_number_rate",
    "tuning_diatonic_strength",
    "tuning_equal_tempered_deviation",
    "tuning_frequency",
    "tuning_nontempered_energy_ratio",
};
constexpr std::size_t kFamilyCount = std::size(kFamilies);

consteval std::size_t fam(std::string_view name) {
  for (std::size_t i = 0; i < kFamilyCount; ++i) {
    if (kFamilies[i] == name) return i;
  }
  throw "unknown descriptor family";  // a compile error in a consteval context
}

consteval std::size_t mood(std::string_view name) {
  for (std::size_t i = 0; i < kMoodFactors.size(); ++i) {
    if (kMoodFactors[i] == name) return i;
  }
  throw "unknown mood factor";
}

struct Effect {
  std::size_t factor;
  std::size_t family;
  double coefficient;
};

// Which descriptor families each mood factor shifts, and by how much (in units of the family's
// noise sd). Chosen to follow the music-psychology folklore the tags suggest (energetic music is
// faster and louder, dark music less bright, relaxing music less dissonant, ...).
constexpr Effect kMoodEffects[] = {
    {mood("energy"), fam("bpm"), 0.6},
    {mood("energy"), fam("onset_rate"), 0.5},
    {mood("energy"), fam("average_loudness"), 0.5},
    {mood("energy"), fam("spectral_energy"), 0.5},
    {mood("energy"), fam("spectral_rms"), 0.5},
    {mood("energy"), fam("beats_loudness"), 0.5},
    {mood("energy"), fam("spectral_flux"), 0.5},
    {mood("energy"), fam("dynamic_complexity"), -0.5},
    {mood("energy"), fam("spectral_complexity"), 0.4},
    {mood("energy"), fam("hfc"), 0.4},
    {mood("energy"), fam("spectrum_level"), 0.4},
    {mood("energy"), fam("mfcc_level"), 0.4},
    {mood("energy"), fam("danceability"), 0.3},
    {mood("valence"), fam("key_mode"), 0.8},
    {mood("valence"), fam("dissonance"), -0.4},
    {mood("valence"), fam("tuning_diatonic_strength"), 0.4},
    {mood("valence"), fam("key_strength"), 0.3},
    {mood("valence"), fam("chords_strength"), 0.3},
    {mood("valence"), fam("hpcp_entropy"), -0.3},
    {mood("valence"), fam("spectral_skewness"), -0.3},
    {mood("brightness"), fam("spectral_centroid"), 0.7},
    {mood("brightness"), fam("spectral_rolloff"), 0.6},
    {mood("brightness"), fam("spectral_energyband_high"), 0.6},
    {mood("brightness"), fam("spectrum_tilt"), 0.6},
    {mood("brightness"), fam("mfcc_tilt"), 0.6},
    {mood("brightness"), fam("zerocrossingrate"), 0.5},
    {mood("brightness"), fam("spectral_energyband_middle_high"), 0.4},
    {mood("brightness"), fam("spectral_spread"), 0.4},
    {mood("brightness"), fam("gfcc_tilt"), 0.4},
    {mood("tension"), fam("dissonance"), 0.6},
    {mood("tension"), fam("chords_changes_rate"), 0.5},
    {mood("tension"), fam("spectral_kurtosis"), -0.4},
    {mood("tension"), fam("tuning_nontempered_energy_ratio"), -0.4},
    {mood("tension"), fam("pitch_salience"), -0.3},
    {mood("tension"), fam("barkbands_flatness_db"), 0.3},
    {mood("tension"), fam("spectral_complexity"), 0.3},
    {mood("tension"), fam("hpcp_entropy"), 0.3},
    {mood("space"), fam("silence_rate"), 0.6},
    {mood("space"), fam("spectral_entropy"), 0.5},
    {mood("space"), fam("dynamic_complexity"), 0.5},
    {mood("space"), fam("onset_rate"), -0.5},
    {mood("space"), fam("pitch_salience"), -0.4},
    {mood("space"), fam("melbands_flatness_db"), 0.4},
    {mood("space"), fam("erbbands_flatness_db"), 0.4},
    {mood("space"), fam("spectral_flux"), -0.3},
    {mood("space"), fam("beats_loudness"), -0.3},
    {mood("groove"), fam("danceability"), 0.7},
    {mood("groove"), fam("bpm_peak_weight"), 0.6},
    {mood("groove"), fam("beats_loudness_band_ratio"), 0.5},
    {mood("groove"), fam("spectral_contrast_coeffs"), 0.4},
    {mood("groove"), fam("onset_rate"), 0.3},
    {mood("groove"), fam("beats_loudness"), 0.3},
    {mood("groove"), fam("bpm"), 0.2},
    {mood("epic"), fam("melbands_spread"), 0.5},
    {mood("epic"), fam("gfcc_level"), 0.5},
    {mood("epic"), fam("dynamic_complexity"), 0.4},
    {mood("epic"), fam("spectral_strongpeak"), -0.4},
    {mood("epic"), fam("barkbands_spread"), 0.4},
    {mood("epic"), fam("erbbands_spread"), 0.4},
    {mood("epic"), fam("chords_number_rate"), 0.4},
    {mood("epic"), fam("spectrum_level"), 0.3},
    {mood("warmth"), fam("spectral_contrast_valleys"), 0.5},
    {mood("warmth"), fam("pitch_salience"), 0.5},
    {mood("warmth"), fam("spectral_energyband_middle_low"), 0.4},
    {mood("warmth"), fam("erbbands_crest"), -0.4},
    {mood("warmth"), fam("melbands_crest"), -0.3},
    {mood("warmth"), fam("erbbands_flatness_db"), -0.3},
    {mood("warmth"), fam("zerocrossingrate"), -0.3},
};

// Production (recording/mastering) factors: nuisance shared by an artist's and an album's tracks,
// unrelated to the tags. They move some of the same families as the mood factors, so a
// descriptor's level alone does not tell the mood.
constexpr Effect kProductionEffects[] = {
    {0, fam("average_loudness"), 0.7},
    {0, fam("spectrum_level"), 0.8},
    {0, fam("spectral_energy"), 0.7},
    {0, fam("spectral_rms"), 0.7},
    {0, fam("mfcc_level"), 0.7},
    {0, fam("beats_loudness"), 0.6},
    {0, fam("hfc"), 0.5},
    {0, fam("spectral_energyband_low"), 0.5},
    {0, fam("spectral_energyband_middle_low"), 0.5},
    {1, fam("spectrum_tilt"), 0.6},
    {1, fam("spectral_centroid"), 0.5},
    {1, fam("spectral_rolloff"), 0.5},
    {1, fam("mfcc_tilt"), 0.5},
    {1, fam("gfcc_tilt"), 0.4},
    {1, fam("zerocrossingrate"), 0.3},
    {2, fam("barkbands_flatness_db"), 0.5},
    {2, fam("erbbands_flatness_db"), 0.5},
    {2, fam("melbands_flatness_db"), 0.5},
    {2, fam("spectral_entropy"), 0.4},
    {2, fam("zerocrossingrate"), 0.4},
    {2, fam("silence_rate"), -0.4},
    {2, fam("spectral_complexity"), 0.3},
};

// Loadings of the 56 split-0 tags on the mood factors
// (energy, valence, brightness, tension, space, groove, epic, warmth).
struct TagLoadings {
  std::string_view tag;
  std::array<double, 8> loadings;
};
constexpr TagLoadings kTagLoadings[] = {
    {"action", {1, 0, 0, 0.5, 0, 0, 0.5, 0}},      {"adventure", {0.5, 0.5, 0, 0, 0, 0, 1, 0}},
    {"advertising", {0, 0.5, 1, 0, 0, 0.5, 0, 0}}, {"background", {-0.5, 0, 0, -0.5, 0.5, 0, 0, 0}},
    {"ballad", {-0.5, -0.5, 0, 0, 0, 0, 0, 1}},    {"calm", {-1, 0, 0, -0.5, 0.5, 0, 0, 0}},
    {"children", {0, 1, 0.5, 0, 0, 0, 0, 0.5}},    {"christmas", {0, 0.5, 0.5, 0, 0, 0, 0, 1}},
    {"commercial", {0, 0.5, 1, 0, 0, 0.5, 0, 0}},  {"cool", {0, 0, -0.5, 0, 0, 1, 0, -0.5}},
    {"corporate", {0, 1, 0.5, -0.5, 0, 0, 0, 0}},  {"dark", {0, -1, -1, 0.5, 0, 0, 0, 0}},
    {"deep", {0, 0, -1, 0, 0.5, 0.5, 0, 0}},       {"documentary", {0, 0, 0, -0.5, 0.5, 0, 0.5, 0}},
    {"drama", {0, -0.5, 0, 1, 0, 0, 0.5, 0}},      {"dramatic", {0, 0, 0, 1, 0, 0, 1, 0}},
    {"dream", {-0.5, 0, 0, 0, 1, 0, 0, 0.5}},      {"emotional", {0, -0.5, 0, 0, 0, 0, 0.5, 0.5}},
    {"energetic", {1, 0, 0, 0, 0, 0.5, 0, 0}},     {"epic", {0.5, 0, 0, 0.5, 0, 0, 1, 0}},
    {"fast", {1, 0, 0.5, 0.5, 0, 0, 0, 0}},        {"film", {0, 0, 0, 0.5, 0, 0, 1, 0}},
    {"fun", {0.5, 1, 0, 0, 0, 0.5, 0, 0}},         {"funny", {0, 1, 0.5, -0.5, 0, 0, 0, 0}},
    {"game", {0.5, 0, 0.5, 0, 0, 0, 0, -1}},       {"groovy", {0, 0, 0, 0, 0, 1, 0, 0.5}},
    {"happy", {0.5, 1, 0, 0, 0, 0, 0, 0}},         {"heavy", {1, 0, -0.5, 1, 0, 0, 0, 0}},
    {"holiday", {0, 1, 0, 0, 0, 0.5, 0, 0.5}},     {"hopeful", {0, 0.5, 0, 0, 0, 0, 0.5, 0.5}},
    {"inspiring", {0, 0.5, 0, 0, 0, 0, 1, 0}},     {"love", {0, 0.5, 0, 0, 0, 0, 0, 1}},
    {"meditative", {-1, 0, 0, 0, 1, 0, 0, 0}},     {"melancholic", {-0.5, -1, 0, 0, 0, 0, 0, 0.5}},
    {"melodic", {0, 0, 0.5, -0.5, 0, 0, 0, 0.5}},  {"motivational", {0.5, 0.5, 0, 0, 0, 0, 0.5, 0}},
    {"movie", {0, 0, 0, 0, 0.5, 0, 1, 0}},         {"nature", {-0.5, 0, 0, 0, 1, 0, 0, 0.5}},
    {"party", {1, 0, 0, 0, 0, 1, 0, 0}},           {"positive", {0, 1, 0.5, 0, 0, 0, 0, 0}},
    {"powerful", {1, 0, 0, 0, 0, 0, 1, 0}},        {"relaxing", {-1, 0, 0, -1, 0, 0, 0, 0}},
    {"retro", {0, 0, -1, 0, 0, 0.5, 0, 0.5}},      {"romantic", {-0.5, 0.5, 0, 0, 0, 0, 0, 1}},
    {"sad", {-0.5, -1, 0, 0, 0, 0, 0, 0}},         {"sexy", {-0.5, 0, 0, 0, 0, 1, 0, 0.5}},
    {"slow", {-1, 0, 0, 0, 0, -0.5, 0, 0}},        {"soft", {-0.5, 0, -0.5, 0, 0, 0, 0, 0.5}},
    {"soundscape", {0, 0, 0, 0, 1, -1, 0, 0}},     {"space", {0, 0, -0.5, 0, 1, 0, 0, -0.5}},
    {"sport", {1, 0.5, 0, 0, 0, 0.5, 0, 0}},       {"summer", {0, 1, 0.5, 0, 0, 0.5, 0, 0}},
    {"trailer", {0.5, 0, 0, 1, 0, 0, 1, 0}},       {"travel", {0, 0.5, 0, 0, 0.5, 0.5, 0, 0}},
    {"upbeat", {0.5, 0.5, 0, 0, 0, 1, 0, 0}},      {"uplifting", {0, 1, 0, 0, 0, 0, 0.5, 0}},
};

std::string_view short_tag(std::string_view tag) {
  if (tag.starts_with(kMoodThemePrefix)) tag.remove_prefix(kMoodThemePrefix.size());
  return tag;
}

const TagLoadings* find_loadings(std::string_view tag) {
  tag = short_tag(tag);
  const auto it =
      std::lower_bound(std::begin(kTagLoadings), std::end(kTagLoadings), tag,
                       [](const TagLoadings& t, std::string_view n) { return t.tag < n; });
  return it != std::end(kTagLoadings) && it->tag == tag ? &*it : nullptr;
}

// Elements a tag's private signature can shift: points of the shared log-spectrum (felt by
// barkbands/erbbands/melbands near that frequency), mfcc/gfcc means 2-12, and the six bands of
// spectral contrast coefficients, valleys and beats loudness band ratios.
constexpr std::size_t kSpectrumPoints = 40;
constexpr std::size_t kSigMfcc = kSpectrumPoints;  // 11 targets: mfcc.mean 2..12
constexpr std::size_t kSigGfcc = kSigMfcc + 11;    // 11 targets: gfcc.mean 2..12
constexpr std::size_t kSigContrast = kSigGfcc + 11;
constexpr std::size_t kSigValleys = kSigContrast + 6;
constexpr std::size_t kSigBandRatio = kSigValleys + 6;
constexpr std::size_t kSignatureTargets = kSigBandRatio + 6;

// Keys of the random streams (mixed with the seed and an id).
enum ModelStream : std::uint64_t {
  kStreamTrack = 11,
  kStreamArtist,
  kStreamAlbum,
  kStreamSignature,
  kStreamUnknownTag,
};

// ---------------------------------------------------------------------------------------------
// Frame-level descriptors

// Value of a frame as a function of its latent a = base + track_sd * loc + frame_sd * x.
enum class Shape {
  kLog,     // offset + exp(a)                         (positive, right-skewed)
  kNegLog,  // -exp(a)                                 (negative, e.g. spectral_decrease)
  kLinear,  // a                                       (symmetric)
  kLogit,   // lo + (hi - lo) / (1 + exp(-a))          (bounded)
  kCount,   // floor(exp(a))                           (whole numbers)
};

enum class MinRule {
  kNone,
  kFloor,     // min = 10^U(lo, hi) on most tracks: digital silence at the start or end
  kZero,      // min = 0 with probability p (silent frames)
  kSentinel,  // min = -1 with probability p (chords_strength with no chord detected)
};

struct Curve {
  Shape shape = Shape::kLog;
  double offset = 0.0;                                   // kLog
  double lo = -std::numeric_limits<double>::infinity();  // clamp (kLogit: lower bound)
  double hi = std::numeric_limits<double>::infinity();   // clamp (kLogit: upper bound)
  double quantum = 0.0;  // frames are multiples of this (spectral_rolloff: FFT bin width)

  [[nodiscard]] double apply(double a) const {
    double v = 0.0;
    switch (shape) {
      case Shape::kLog:
        v = offset + std::exp(a);
        break;
      case Shape::kNegLog:
        v = -std::exp(a);
        break;
      case Shape::kLinear:
        v = a;
        break;
      case Shape::kLogit:
        return lo + (hi - lo) / (1.0 + std::exp(-a));
      case Shape::kCount:
        v = std::floor(std::exp(a));
        break;
    }
    if (quantum > 0.0) v = std::round(v / quantum) * quantum;
    return std::clamp(v, lo, hi);
  }

  // Latent of a frame with value `median` (for kLogit, `median` is in (lo, hi)).
  [[nodiscard]] double base(double median) const {
    switch (shape) {
      case Shape::kLog:
        return std::log(median - offset);
      case Shape::kNegLog:
        return std::log(-median);
      case Shape::kLinear:
        return median;
      case Shape::kLogit: {
        const double p = (median - lo) / (hi - lo);
        return std::log(p / (1.0 - p));
      }
      case Shape::kCount:
        return std::log(median);
    }
    return 0.0;
  }
};

struct FrameSpec {
  std::string_view name;
  int section;  // 0 lowlevel, 1 rhythm, 2 tonal
  Curve curve;
  double median;    // frame median of a track at loc = 0
  double track_sd;  // between-track sd of the latent per unit of loc
  double frame_sd;  // within-track sd of the latent
  double rho;       // frame-to-frame autocorrelation
  MinRule min_rule = MinRule::kNone;
  double min_a = 0.0, min_b = 0.0;  // kFloor: log10 range; kZero/kSentinel: probability in min_a
};

constexpr double kInf = std::numeric_limits<double>::infinity();

Curve log_curve(double offset = 0.0, double hi = kInf, double quantum = 0.0) {
  return {Shape::kLog, offset, -kInf, hi, quantum};
}
Curve logit_curve(double lo, double hi) { return {Shape::kLogit, 0.0, lo, hi, 0.0}; }
Curve linear_curve(double lo, double hi) { return {Shape::kLinear, 0.0, lo, hi, 0.0}; }

// FFT bin width of Essentia's 2048-point frames at 44.1 kHz: spectral_rolloff is a bin frequency.
constexpr double kBinHz = 44100.0 / 2048.0;

const std::vector<FrameSpec>& frame_specs() {
  static const std::vector<FrameSpec> specs = {
      {"barkbands_crest", 0, log_curve(1.5), 11.0, 0.25, 0.45, 0.8},
      {"barkbands_flatness_db", 0, logit_curve(0, 1), 0.2, 0.35, 0.5, 0.85},
      {"barkbands_kurtosis", 0, log_curve(-2.0), 5.0, 0.5, 1.1, 0.7},
      {"barkbands_skewness", 0, log_curve(-3.0), 1.3, 0.3, 0.4, 0.8},
      {"barkbands_spread", 0, log_curve(), 10.0, 0.45, 0.8, 0.85},
      {"dissonance", 0, linear_curve(0.0, 0.5), 0.42, 0.035, 0.07, 0.7},
      {"erbbands_crest", 0, log_curve(1.5), 10.0, 0.2, 0.45, 0.8},
      {"erbbands_flatness_db", 0, logit_curve(0, 1), 0.2, 0.35, 0.45, 0.85},
      {"erbbands_kurtosis", 0, log_curve(-1.9), 0.7, 0.5, 1.0, 0.7},
      {"erbbands_skewness", 0, log_curve(-2.5), 0.5, 0.3, 0.35, 0.8},
      {"erbbands_spread", 0, log_curve(), 20.0, 0.45, 0.6, 0.85},
      {"hfc", 0, log_curve(), 9.0, 0.8, 0.9, 0.85, MinRule::kFloor, -16.0, -15.95},
      {"melbands_crest", 0, log_curve(1.2), 15.0, 0.2, 0.4, 0.8},
      {"melbands_flatness_db", 0, logit_curve(0, 1), 0.28, 0.3, 0.45, 0.85},
      {"melbands_kurtosis", 0, log_curve(-1.9), 4.0, 0.6, 1.0, 0.7},
      {"melbands_skewness", 0, log_curve(-2.5), 1.5, 0.3, 0.35, 0.8},
      {"melbands_spread", 0, log_curve(), 12.0, 0.45, 0.8, 0.85},
      {"pitch_salience", 0, logit_curve(0, 1), 0.5, 0.3, 0.7, 0.8},
      {"spectral_centroid", 0, log_curve(0.0, 22050.0), 900.0, 0.45, 0.75, 0.95},
      {"spectral_complexity", 0, {Shape::kCount}, 10.0, 0.4, 0.5, 0.8, MinRule::kZero, 0.9},
      {"spectral_decrease", 0, {Shape::kNegLog}, -4.5e-9, 0.3, 0.7, 0.85},
      {"spectral_energy", 0, log_curve(), 0.02, 0.45, 0.9, 0.9, MinRule::kFloor, -20.05, -19.95},
      {"spectral_energyband_high", 0, log_curve(), 1.2e-4, 1.1, 1.3, 0.85, MinRule::kFloor, -20.2,
       -20.1},
      {"spectral_energyband_low", 0, log_curve(), 5e-3, 0.8, 1.1, 0.85, MinRule::kFloor, -22.95,
       -22.3},
      {"spectral_energyband_middle_high", 0, log_curve(), 1.5e-3, 0.7, 1.2, 0.85, MinRule::kFloor,
       -20.95, -20.8},
      {"spectral_energyband_middle_low", 0, log_curve(), 7e-3, 0.5, 1.0, 0.85, MinRule::kFloor,
       -21.85, -21.58},
      {"spectral_entropy", 0, linear_curve(1.5, 9.83), 7.0, 0.6, 0.8, 0.85},
      {"spectral_flux", 0, log_curve(), 0.06, 0.5, 0.7, 0.7, MinRule::kFloor, -10.2, -10.15},
      {"spectral_kurtosis", 0, log_curve(-1.3), 12.0, 0.7, 1.0, 0.8},
      {"spectral_rms", 0, log_curve(), 0.0045, 0.3, 0.5, 0.9, MinRule::kFloor, -11.52, -11.5},
      {"spectral_rolloff", 0, log_curve(0.0, 22050.0, kBinHz), 800.0, 0.9, 1.2, 0.9},
      {"spectral_skewness", 0, log_curve(-1.0), 2.5, 0.35, 0.6, 0.8},
      {"spectral_spread", 0, log_curve(), 3.5e6, 0.4, 0.6, 0.9},
      {"spectral_strongpeak", 0, log_curve(), 0.45, 0.5, 1.1, 0.6, MinRule::kZero, 0.95},
      {"zerocrossingrate", 0, log_curve(0.0, 1.0), 0.04, 0.7, 0.7, 0.85},
      {"beats_loudness", 1, log_curve(), 0.03, 0.5, 0.8, 0.5, MinRule::kZero, 0.6},
      {"chords_strength", 2, logit_curve(0, 1), 0.5, 0.2, 0.55, 0.7, MinRule::kSentinel, 0.58},
      {"hpcp_entropy", 2, linear_curve(0.0, 5.17), 1.8, 0.35, 0.7, 0.7, MinRule::kZero, 0.95},
  };
  // Spec i is family i (synthesize_track() indexes the locations by position).
  static const bool aligned = [] {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (specs[i].name != kFamilies[i])
        throw std::logic_error("synth: frame spec out of family order");
    }
    return true;
  }();
  (void)aligned;
  return specs;
}

// Essentia's minimum and maximum run over thousands of frames; synth simulates kSynthFrames,
// so the extremes are taken this many latent sds beyond the simulated ones (the expected max of
// ~8,000 normal frames is ~3.8 sd, of 128 frames ~2.6 sd).
constexpr double kExtremeExtension = 1.2;

// Share of tracks whose stats include digital silence (energy floors, hpcp min 0 / max 1).
constexpr double kSilenceShare = 0.97;

// One AR(1) series of kSynthFrames values, standardised to mean 0 and sd 1 exactly, so that the
// frames carry shape but no extra between-track noise.
void ar_series(Rng& rng, double rho, std::span<double> out) {
  const double innovation = std::sqrt(1.0 - rho * rho);
  double x = rng.frame_noise();
  for (auto& v : out) {
    v = x;
    x = rho * x + innovation * rng.frame_noise();
  }
  double mean = 0.0, sq = 0.0;
  for (const double v : out) mean += v;
  mean /= static_cast<double>(out.size());
  for (const double v : out) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / static_cast<double>(out.size()));
  for (auto& v : out) v = sd > 0 ? (v - mean) / sd : 0.0;
}

double mean_of(std::span<const double> v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double var_of(std::span<const double> v, double mean) {
  double s = 0.0;
  for (const double x : v) s += (x - mean) * (x - mean);
  return s / static_cast<double>(v.size());
}

// Essentia's PoolAggregator statistics: population variance, median = element n/2 of the sorted
// values, d* = mean and variance of |first derivative|, d*2 = of |second derivative|.
Stats9 stats_of(std::span<const double> values, std::vector<double>& scratch) {
  Stats9 s;
  const std::size_t n = values.size();
  s.mean() = mean_of(values);
  s.var() = var_of(values, s.mean());
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min() = *lo;
  s.max() = *hi;
  scratch.assign(values.begin(), values.end());
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n / 2),
                   scratch.end());
  s.median() = scratch[n / 2];
  // |first derivative| in scratch[0, n-1), |second derivative| in scratch[n-1, 2n-3).
  scratch.resize(2 * n - 3);
  for (std::size_t i = 0; i + 1 < n; ++i) scratch[i] = values[i + 1] - values[i];
  for (std::size_t i = 0; i + 2 < n; ++i)
    scratch[n - 1 + i] = std::abs(scratch[i + 1] - scratch[i]);
  for (std::size_t i = 0; i + 1 < n; ++i) scratch[i] = std::abs(scratch[i]);
  const std::span<const double> first(scratch.data(), n - 1), second(scratch.data() + n - 1, n - 2);
  s.dmean() = mean_of(first);
  s.dvar() = var_of(first, s.dmean());
  s.dmean2() = mean_of(second);
  s.dvar2() = var_of(second, s.dmean2());
  return s;
}

// Stats of frames value = curve(location + frame_sd * x[f]), extremes extended.
Stats9 curve_stats(const Curve& curve, double location, double frame_sd, std::span<const double> x,
                   std::vector<double>& values, std::vector<double>& scratch) {
  values.resize(x.size());
  for (std::size_t f = 0; f < x.size(); ++f) values[f] = curve.apply(location + frame_sd * x[f]);
  Stats9 s = stats_of(values, scratch);
  const auto [xlo, xhi] = std::minmax_element(x.begin(), x.end());
  const double a = curve.apply(location + frame_sd * (*xlo - kExtremeExtension));
  const double b = curve.apply(location + frame_sd * (*xhi + kExtremeExtension));
  s.min() = std::min({s.min(), a, b});
  s.max() = std::max({s.max(), a, b});
  return s;
}

void apply_min_rule(const FrameSpec& spec, Stats9& s, Rng& rng) {
  switch (spec.min_rule) {
    case MinRule::kNone:
      break;
    case MinRule::kFloor:
      if (rng.chance(kSilenceShare)) s.min() = std::pow(10.0, rng.uniform(spec.min_a, spec.min_b));
      break;
    case MinRule::kZero:
      if (rng.chance(spec.min_a)) s.min() = 0.0;
      break;
    case MinRule::kSentinel:
      if (rng.chance(spec.min_a)) s.min() = -1.0;
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// The latent state of a track

struct TrackLatent {
  std::array<double, kFamilyCount> loc{};        // family locations
  std::array<double, kSignatureTargets> fine{};  // private signature shift + element noise
  std::array<double, 8> mood{};                  // h
  std::array<double, 3> production{};            // q
};

std::array<double, 8> hashed_loadings(std::string_view tag) {
  Rng rng(mix64(hash_text(short_tag(tag)), kStreamUnknownTag));
  std::array<double, 8> w{};
  const std::size_t a = rng.below(8);
  std::size_t b = rng.below(7);
  if (b >= a) ++b;
  w[a] = rng.chance(0.5) ? 1.0 : -1.0;
  w[b] = rng.chance(0.5) ? 0.5 : -0.5;
  return w;
}

TrackLatent latent_of(const Track& track, std::uint64_t seed, Rng& rng) {
  TrackLatent lat;
  // m = sum of the tags' loadings / sqrt(number of tags)
  std::array<double, 8> m{};
  const double norm =
      track.tags.empty() ? 0.0 : 1.0 / std::sqrt(static_cast<double>(track.tags.size()));
  for (const auto& tag : track.tags) {
    const auto w = tag_loadings(tag);
    for (std::size_t k = 0; k < 8; ++k) m[k] += norm * w[k];
    for (const auto& [target, sign] : tag_signature(tag, seed)) {
      lat.fine[target] += norm * sign * kScales.signature_shift;
    }
  }
  Rng artist(mix64(mix64(seed, kStreamArtist), hash_text(track.artist_id)));
  Rng album(mix64(mix64(seed, kStreamAlbum), hash_text(track.album_id)));
  for (std::size_t k = 0; k < 8; ++k) {
    lat.mood[k] = kScales.tag_gain * m[k] + kScales.artist_mood_sd * artist.normal() +
                  kScales.album_mood_sd * album.normal() + kScales.track_mood_sd * rng.normal();
  }
  for (std::size_t j = 0; j < 3; ++j) {
    lat.production[j] = kScales.artist_prod_sd * artist.normal() +
                        kScales.album_prod_sd * album.normal() +
                        kScales.track_prod_sd * rng.normal();
  }
  for (auto& l : lat.loc) l = kScales.family_noise_sd * rng.normal();
  for (const auto& e : kMoodEffects) lat.loc[e.family] += e.coefficient * lat.mood[e.factor];
  for (const auto& e : kProductionEffects)
    lat.loc[e.family] += e.coefficient * lat.production[e.factor];
  for (auto& f : lat.fine) f += rng.normal();
  return lat;
}

// ---------------------------------------------------------------------------------------------
// Builders of the descriptors

Descriptor real(std::string_view name, double v) {
  Descriptor d;
  d.name = name;
  d.kind = Descriptor::Kind::kReal;
  d.real = v;
  return d;
}

Descriptor integer(std::string_view name, double v) {
  Descriptor d = real(name, v);
  d.kind = Descriptor::Kind::kInteger;
  return d;
}

Descriptor stats(std::string_view name, const Stats9& s) {
  Descriptor d;
  d.name = name;
  d.kind = Descriptor::Kind::kStats;
  d.stats = {s};
  return d;
}

// Degenerate stats of a value computed once per track (music-1.0 bpm_histogram_*_peak_*).
Descriptor constant_stats(std::string_view name, double v) {
  Stats9 s;
  s.max() = s.mean() = s.median() = s.min() = v;
  return stats(name, s);
}

Descriptor text(std::string_view name, std::string value) {
  Descriptor d;
  d.name = name;
  d.kind = Descriptor::Kind::kString;
  d.text = std::move(value);
  return d;
}

double logistic(double a) { return 1.0 / (1.0 + std::exp(-a)); }

// Piecewise-linear template: (x, y) knots, x ascending in [0, 1].
double knots(std::span<const std::array<double, 2>> k, double x) {
  if (x <= k.front()[0]) return k.front()[1];
  for (std::size_t i = 1; i < k.size(); ++i) {
    if (x <= k[i][0]) {
      const double t = (x - k[i - 1][0]) / (k[i][0] - k[i - 1][0]);
      return k[i - 1][1] + t * (k[i][1] - k[i - 1][1]);
    }
  }
  return k.back()[1];
}

// Mean log10 band energy by position on the (perceptual) frequency axis, per band family.
constexpr std::array<std::array<double, 2>, 6> kBarkTemplate = {
    {{0.0, -3.6}, {0.04, -2.4}, {0.2, -2.7}, {0.5, -3.4}, {0.75, -4.1}, {1.0, -5.1}}};
constexpr std::array<std::array<double, 2>, 7> kErbTemplate = {
    {{0.0, -0.8}, {0.12, 0.8}, {0.3, 1.3}, {0.55, 0.9}, {0.75, 0.0}, {0.9, -1.5}, {1.0, -3.0}}};
constexpr std::array<std::array<double, 2>, 6> kMelTemplate = {
    {{0.0, -2.8}, {0.1, -3.0}, {0.3, -3.8}, {0.6, -5.0}, {0.8, -5.8}, {1.0, -6.8}}};

struct BandFamily {
  std::string_view name;
  std::size_t bands;
  std::span<const std::array<double, 2>> shape;
  double floor_lo, floor_hi;  // log10 range of the silence floor of min
};

// Frame sds (natural log) of the shared gain, the band noise and each family's own noise, and
// their autocorrelations; log10 shifts per unit of loc_spectrum_level, of loc_spectrum_tilt
// (times 2 (x - 0.3)) and of a spectrum point's signature element.
constexpr double kGainSd = 1.0, kBandSd = 1.0, kFamilyBandSd = 0.35;
constexpr double kGainRho = 0.95, kBandRho = 0.7, kFamilyBandRho = 0.5;
constexpr double kLevelSd = 0.45, kTiltSd = 0.5, kFineSd = 0.25;

const BandFamily kBandFamilies[] = {
    {"barkbands", 27, kBarkTemplate, -24.5, -20.7},
    {"erbbands", 40, kErbTemplate, -22.0, -16.6},
    {"melbands", 40, kMelTemplate, -24.2, -22.8},
};

// Shared frame model of the three band families: log E_b[f] = template(x_b) + level + tilt +
// fine(x_b) + gain[f] + band noise at x_b[f] + family noise; band noise at a frequency is shared,
// so barkbands, erbbands and melbands are three views of one spectrum.
void add_band_descriptors(const TrackLatent& lat, Rng& rng, std::vector<Descriptor>& out,
                          std::vector<double>& values, std::vector<double>& scratch) {
  std::vector<double> gain(kSynthFrames), noise(kSpectrumPoints * kSynthFrames), own(kSynthFrames);
  ar_series(rng, kGainRho, gain);
  for (std::size_t j = 0; j < kSpectrumPoints; ++j) {
    ar_series(rng, kBandRho, std::span(noise).subspan(j * kSynthFrames, kSynthFrames));
  }
  const double frame_sd =
      std::sqrt(kGainSd * kGainSd + kBandSd * kBandSd + kFamilyBandSd * kFamilyBandSd);
  std::vector<double> x(kSynthFrames);
  const Curve curve = log_curve();
  const bool silence = rng.chance(kSilenceShare);
  for (const auto& family : kBandFamilies) {
    Descriptor d;
    d.name = family.name;
    d.kind = Descriptor::Kind::kVectorStats;
    for (std::size_t b = 0; b < family.bands; ++b) {
      const double pos = static_cast<double>(b) / static_cast<double>(family.bands - 1);
      const auto j = static_cast<std::size_t>(std::lround(pos * (kSpectrumPoints - 1)));
      ar_series(rng, kFamilyBandRho, own);
      for (std::size_t f = 0; f < kSynthFrames; ++f) {
        x[f] =
            (kGainSd * gain[f] + kBandSd * noise[j * kSynthFrames + f] + kFamilyBandSd * own[f]) /
            frame_sd;
      }
      // The template is of the mean; the median of a log-normal is below it by sd^2 / 2.
      const double log10_mean =
          knots(family.shape, pos) + kLevelSd * lat.loc[fam("spectrum_level")] +
          kTiltSd * lat.loc[fam("spectrum_tilt")] * 2.0 * (pos - 0.3) + kFineSd * lat.fine[j];
      const double location = log10_mean * kLn10 - 0.5 * frame_sd * frame_sd;
      Stats9 s = curve_stats(curve, location, frame_sd, x, values, scratch);
      if (silence) s.min() = std::pow(10.0, rng.uniform(family.floor_lo, family.floor_hi));
      d.stats.push_back(s);
    }
    out.push_back(std::move(d));
  }
}

// Six-element frame descriptors: spectral contrast coefficients and valleys, beats loudness band
// ratios. Element e: latent = base_e + track_sd * (0.7 loc + 0.7 fine_e) + frame_sd * x.
struct SixBandSpec {
  std::string_view name;
  int section;
  Curve curve;
  std::array<double, 6> median;
  double track_sd, frame_sd, rho;
  std::size_t family;
  std::size_t first_target;
};

void add_six_band(const SixBandSpec& spec, const TrackLatent& lat, Rng& rng,
                  std::vector<Descriptor>& out, std::vector<double>& values,
                  std::vector<double>& scratch) {
  Descriptor d;
  d.name = spec.name;
  d.kind = Descriptor::Kind::kVectorStats;
  std::vector<double> x(kSynthFrames);
  for (std::size_t e = 0; e < 6; ++e) {
    ar_series(rng, spec.rho, x);
    const double location =
        spec.curve.base(spec.median[e]) +
        spec.track_sd * (0.7 * lat.loc[spec.family] + 0.7 * lat.fine[spec.first_target + e]);
    d.stats.push_back(curve_stats(spec.curve, location, spec.frame_sd, x, values, scratch));
  }
  out.push_back(std::move(d));
}

const SixBandSpec kSixBandSpecs[] = {
    {"spectral_contrast_coeffs",
     0,
     {Shape::kLogit, 0.0, -1.0, 0.0, 0.0},
     {-0.62, -0.70, -0.74, -0.78, -0.80, -0.78},
     0.35,
     0.45,
     0.8,
     fam("spectral_contrast_coeffs"),
     kSigContrast},
    {"spectral_contrast_valleys",
     0,
     linear_curve(-kInf, kInf),
     {-7.6, -7.4, -8.1, -8.7, -9.1, -11.9},
     1.0,
     2.2,
     0.8,
     fam("spectral_contrast_valleys"),
     kSigValleys},
    {"beats_loudness_band_ratio",
     1,
     logit_curve(0, 1),
     {0.3, 0.15, 0.1, 0.05, 0.02, 0.02},
     0.6,
     1.2,
     0.6,
     fam("beats_loudness_band_ratio"),
     kSigBandRatio},
};

// Krumhansl-Kessler key profiles, from the tonic up, rescaled to [0, 1].
constexpr std::array<double, 12> kMajorProfile = {1.0,  0.05, 0.34, 0.08, 0.55, 0.48,
                                                  0.12, 0.73, 0.09, 0.38, 0.07, 0.2};
constexpr std::array<double, 12> kMinorProfile = {1.0,  0.16, 0.35, 0.78, 0.14, 0.35,
                                                  0.13, 0.63, 0.45, 0.16, 0.31, 0.27};
// Pitch classes as Essentia names them (sharps only); hpcp bin 0 is A.
constexpr std::array<std::string_view, 12> kKeyNames = {"A",  "A#", "B", "C",  "C#", "D",
                                                        "D#", "E",  "F", "F#", "G",  "G#"};

struct Tonality {
  std::size_t key = 0;  // index into kKeyNames
  bool minor = false;
};

// hpcp (36 bins, 3 per semitone from A): per frame, the key profile times log-normal noise,
// normalised by the frame's maximum as Essentia does; min 0 and max 1 on tracks with silence.
Descriptor hpcp_descriptor(const Tonality& t, double strength_loc, Rng& rng,
                           std::vector<double>& mean_out, std::vector<double>& scratch) {
  const auto& profile = t.minor ? kMinorProfile : kMajorProfile;
  std::array<double, 36> level{};
  const double sharpness = std::exp(0.3 * strength_loc);
  for (std::size_t s = 0; s < 12; ++s) {
    const double p = 0.03 + std::pow(profile[s], sharpness);
    const std::size_t centre = 3 * ((s + t.key) % 12);
    level[centre] += p;
    level[(centre + 1) % 36] += p * rng.uniform(0.1, 0.5);
    level[(centre + 35) % 36] += p * rng.uniform(0.1, 0.5);
  }
  for (auto& l : level) l *= std::exp(0.3 * rng.normal());
  std::vector<double> frames(36 * kSynthFrames), x(kSynthFrames);
  for (std::size_t b = 0; b < 36; ++b) {
    ar_series(rng, 0.8, x);
    for (std::size_t f = 0; f < kSynthFrames; ++f)
      frames[b * kSynthFrames + f] = level[b] * std::exp(1.1 * x[f]);
  }
  for (std::size_t f = 0; f < kSynthFrames; ++f) {
    double top = 0.0;
    for (std::size_t b = 0; b < 36; ++b) top = std::max(top, frames[b * kSynthFrames + f]);
    for (std::size_t b = 0; b < 36; ++b) frames[b * kSynthFrames + f] /= top;
  }
  Descriptor d;
  d.name = "hpcp";
  d.kind = Descriptor::Kind::kVectorStats;
  const bool silence = rng.chance(0.98);
  mean_out.clear();
  for (std::size_t b = 0; b < 36; ++b) {
    Stats9 s = stats_of(std::span(frames).subspan(b * kSynthFrames, kSynthFrames), scratch);
    if (silence) {
      s.min() = 0.0;
      s.max() = 1.0;
    }
    mean_out.push_back(s.mean());
    d.stats.push_back(s);
  }
  return d;
}

// chords_histogram: 24 percentages in Essentia's circle-of-fifths order (C, Em, G, Bm, ...):
// index 2p is the major chord p fifths above C, 2p + 1 the minor chord a major third above it.
// Diatonic chords of the key get most of the mass; many others are exactly 0.
std::vector<double> chords_histogram(const Tonality& t, Rng& rng) {
  const auto fifths = [](std::size_t semitones_above_c) { return (semitones_above_c * 7) % 12; };
  const auto major_index = [&](std::size_t c) { return 2 * fifths(c % 12); };
  const auto minor_index = [&](std::size_t c) { return 2 * fifths((c + 8) % 12) + 1; };
  const std::size_t tonic = (t.key + 9) % 12;  // A is 9 semitones above C
  std::vector<double> w(24, 0.0);
  for (auto& v : w) v = rng.chance(0.5) ? 0.0 : std::exp(rng.normal(-2.5, 1.0));
  const auto add = [&](std::size_t index, double weight) {
    w[index] += weight * std::exp(0.7 * rng.normal());
  };
  if (!t.minor) {
    add(major_index(tonic), 1.0), add(major_index(tonic + 5), 0.6),
        add(major_index(tonic + 7), 0.7);
    add(minor_index(tonic + 2), 0.3), add(minor_index(tonic + 4), 0.2),
        add(minor_index(tonic + 9), 0.4);
  } else {
    add(minor_index(tonic), 1.0), add(minor_index(tonic + 5), 0.5),
        add(minor_index(tonic + 7), 0.4);
    add(major_index(tonic + 3), 0.5), add(major_index(tonic + 8), 0.5),
        add(major_index(tonic + 10), 0.5);
  }
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  for (auto& v : w) v = 100.0 * v / sum;
  return w;
}

// mfcc / gfcc: mean (13), covariance (13 x 13, symmetric positive definite) and its inverse.
struct CepstrumSpec {
  std::string_view name;
  std::array<double, 13> mean, mean_sd, variance;
  std::size_t level_family, tilt_family, first_target;
};

Descriptor cepstrum(const CepstrumSpec& spec, const TrackLatent& lat, Rng& rng) {
  Descriptor d;
  d.name = spec.name;
  d.kind = Descriptor::Kind::kCepstrum;
  std::array<double, 13> mean{};
  for (std::size_t i = 0; i < 13; ++i) {
    double z = 0.0;
    if (i == 0) z = lat.loc[spec.level_family];
    if (i == 1) z = -lat.loc[spec.tilt_family];  // brighter sound, lower first coefficient
    if (i >= 2) z = lat.fine[spec.first_target + i - 2];
    mean[i] = spec.mean[i] + spec.mean_sd[i] * z;
  }
  // Correlation from a 3-factor model, then scaled by per-coefficient variances.
  Eigen::Matrix<double, 13, 3> a;
  for (Eigen::Index i = 0; i < 13; ++i) {
    for (Eigen::Index j = 0; j < 3; ++j) a(i, j) = 0.7 * rng.normal();
  }
  Eigen::Matrix<double, 13, 13> c = a * a.transpose();
  c.diagonal().array() += 0.6;
  Eigen::Matrix<double, 13, 1> sd;
  for (Eigen::Index i = 0; i < 13; ++i) {
    sd(i) = std::sqrt(spec.variance[static_cast<std::size_t>(i)] * std::exp(0.35 * rng.normal()) /
                      c(i, i));
  }
  c = sd.asDiagonal() * c * sd.asDiagonal();
  // Both matrices are printed as float32: round first, so that the file's icov is the inverse of
  // the file's cov as closely as float allows, and both are exactly symmetric.
  for (Eigen::Index i = 0; i < 13; ++i) {
    for (Eigen::Index j = i; j < 13; ++j) c(i, j) = c(j, i) = static_cast<float>(c(i, j));
  }
  Eigen::Matrix<double, 13, 13> inv = c.ldlt().solve(Eigen::Matrix<double, 13, 13>::Identity());
  for (Eigen::Index i = 0; i < 13; ++i) {
    for (Eigen::Index j = i; j < 13; ++j) inv(i, j) = inv(j, i) = 0.5 * (inv(i, j) + inv(j, i));
  }
  d.list.assign(mean.begin(), mean.end());
  for (Eigen::Index i = 0; i < 13; ++i) {
    for (Eigen::Index j = 0; j < 13; ++j) d.list.push_back(c(i, j));
  }
  for (Eigen::Index i = 0; i < 13; ++i) {
    for (Eigen::Index j = 0; j < 13; ++j) d.list.push_back(inv(i, j));
  }
  return d;
}

const CepstrumSpec kMfcc{"mfcc",
                         {-700, 150, 5, 15, 0, 5, 0, 2, 0, 0, 0, 0, 0},
                         {60, 30, 20, 15, 10, 10, 8, 7, 6, 6, 6, 5, 5},
                         {1.3e4, 2.8e3, 1.2e3, 500, 250, 220, 180, 130, 115, 120, 110, 90, 100},
                         fam("mfcc_level"),
                         fam("mfcc_tilt"),
                         kSigMfcc};
const CepstrumSpec kGfcc{"gfcc",
                         {-90, 130, -90, 5, -30, 0, -15, -5, -10, -3, -8, -3, -5},
                         {60, 30, 20, 15, 15, 12, 10, 10, 8, 6, 6, 5, 5},
                         {3e4, 3e3, 1.5e3, 550, 320, 400, 250, 220, 180, 150, 100, 110, 100},
                         fam("gfcc_level"),
                         fam("gfcc_tilt"),
                         kSigGfcc};

// One value per track: latent = base(median) + track_sd * loc.
double track_value(const Curve& curve, double median, double track_sd, double loc) {
  return curve.apply(curve.base(median) + track_sd * loc);
}

std::size_t family_index(std::string_view name) {
  for (std::size_t i = 0; i < kFamilyCount; ++i) {
    if (kFamilies[i] == name) return i;
  }
  throw std::logic_error("synth: no descriptor family " + std::string(name));
}

// Plain per-track numbers: value = curve(base(median) + track_sd * loc of the family of the
// same name).
struct TrackScalarSpec {
  std::string_view name;
  int section;  // 0 lowlevel, 1 rhythm, 2 tonal
  Curve curve;
  double median;
  double track_sd;
};

const std::vector<TrackScalarSpec>& track_scalar_specs() {
  static const std::vector<TrackScalarSpec> specs = {
      {"average_loudness", 0, logit_curve(0, 1), 0.85, 1.0},
      {"dynamic_complexity", 0, log_curve(), 4.5, 0.45},
      {"bpm", 1, {Shape::kLog, 0.0, 60.0, 200.0, 0.0}, 118.0, 0.18},
      {"danceability", 1, log_curve(), 1.1, 0.2},
      {"onset_rate", 1, log_curve(), 2.8, 0.45},
      {"key_strength", 2, logit_curve(0, 1), 0.62, 0.35},
      {"chords_changes_rate", 2, log_curve(), 0.07, 0.5},
      {"chords_number_rate", 2, log_curve(), 0.003, 0.8},
      {"tuning_diatonic_strength", 2, logit_curve(0, 1), 0.52, 0.3},
      {"tuning_equal_tempered_deviation", 2, log_curve(), 0.12, 0.6},
      {"tuning_nontempered_energy_ratio", 2, logit_curve(0, 1), 0.8, 0.5},
  };
  return specs;
}

std::string curve_name(const Curve& c) {
  const auto bounds = [&] {
    std::string b;
    if (std::isfinite(c.lo)) b += " >= " + format_g(c.lo);
    if (std::isfinite(c.hi)) b += (b.empty() ? " <= " : ", <= ") + format_g(c.hi);
    if (c.quantum > 0) b += ", multiple of " + format_g(c.quantum);
    return b;
  };
  switch (c.shape) {
    case Shape::kLog:
      return (c.offset != 0 ? format_g(c.offset) + " + exp" : std::string("exp")) + bounds();
    case Shape::kNegLog:
      return "-exp";
    case Shape::kLinear:
      return "linear" + bounds();
    case Shape::kLogit:
      return "logistic in (" + format_g(c.lo) + ", " + format_g(c.hi) + ")";
    case Shape::kCount:
      return "floor(exp)";
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::span<const std::string_view> mood_factor_names() { return kMoodFactors; }
std::span<const std::string_view> production_factor_names() { return kProductionFactors; }

std::vector<FactorEffect> mood_factor_effects(std::size_t k) {
  std::vector<FactorEffect> out;
  for (const auto& e : kMoodEffects) {
    if (e.factor == k) out.push_back({kFamilies[e.family], e.coefficient});
  }
  return out;
}

std::vector<FactorEffect> production_factor_effects(std::size_t j) {
  std::vector<FactorEffect> out;
  for (const auto& e : kProductionEffects) {
    if (e.factor == j) out.push_back({kFamilies[e.family], e.coefficient});
  }
  return out;
}

std::array<double, 8> tag_loadings(std::string_view tag) {
  if (const auto* t = find_loadings(tag)) return t->loadings;
  return hashed_loadings(tag);
}

bool tag_has_semantic_loadings(std::string_view tag) { return find_loadings(tag) != nullptr; }

const LatentScales& latent_scales() { return kScales; }

namespace {
constexpr std::array<std::string_view, 3> kSectionNames = {"lowlevel", "rhythm", "tonal"};
}  // namespace

std::vector<DescriptorDoc> frame_descriptor_docs() {
  std::vector<DescriptorDoc> out;
  for (const auto& spec : frame_specs()) {
    DescriptorDoc d;
    d.name = std::string(kSectionNames[static_cast<std::size_t>(spec.section)]) + "." +
             std::string(spec.name);
    d.curve = curve_name(spec.curve);
    d.median = spec.median;
    d.track_sd = spec.track_sd;
    d.frame_sd = spec.frame_sd;
    d.rho = spec.rho;
    switch (spec.min_rule) {
      case MinRule::kNone:
        break;
      case MinRule::kFloor:
        d.min_rule = "10^U(" + format_g(spec.min_a) + ", " + format_g(spec.min_b) + ") on " +
                     format_g(100 * kSilenceShare) + "% of tracks";
        break;
      case MinRule::kZero:
        d.min_rule = "0 on " + format_g(100 * spec.min_a) + "% of tracks";
        break;
      case MinRule::kSentinel:
        d.min_rule = "-1 on " + format_g(100 * spec.min_a) + "% of tracks";
        break;
    }
    out.push_back(d);
  }
  return out;
}

std::string vector_descriptor_notes() {
  const auto list = [](auto first, auto last) {
    std::string out;
    for (auto it = first; it != last; ++it) out += (out.empty() ? "" : ", ") + format_g(*it);
    return out;
  };
  std::string md =
      "**Band energies.** Per frame f and point x in [0, 1] of the frequency axis, log E = "
      "ln10 * (template(x) + " +
      format_g(kLevelSd) + " loc_spectrum_level + " + format_g(kTiltSd) +
      " loc_spectrum_tilt * 2 (x - 0.3) + " + format_g(kFineSd) +
      " s_j) - sd^2 / 2 + sd * z[f], with s_j the signature element of the nearest of 40 spectrum "
      "points and z the standardised sum of a shared gain series (sd " +
      format_g(kGainSd) + ", rho " + format_g(kGainRho) + "), the point's band noise (sd " +
      format_g(kBandSd) + ", rho " + format_g(kBandRho) + ") and the family's own noise (sd " +
      format_g(kFamilyBandSd) + ", rho " + format_g(kFamilyBandRho) +
      "). Templates (log10 of the mean, piecewise linear in x), and min on " +
      format_g(100 * kSilenceShare) + "% of tracks:\n";
  for (const auto& f : kBandFamilies) {
    std::string knots_text;
    for (const auto& k : f.shape)
      knots_text +=
          (knots_text.empty() ? "" : " ") + ("(" + format_g(k[0]) + ", " + format_g(k[1]) + ")");
    md += "- " + std::string(f.name) + " (" + std::to_string(f.bands) + " bands): " + knots_text +
          "; min 10^U(" + format_g(f.floor_lo) + ", " + format_g(f.floor_hi) + ")\n";
  }
  md +=
      "\n**Six-band descriptors.** Element e: latent = base(median_e) + track_sd * (0.7 loc + "
      "0.7 s_e) + frame_sd * x[f] (s_e: signature element + N(0, 1)).\n";
  for (const auto& spec : kSixBandSpecs) {
    md += "- " + std::string(kSectionNames[static_cast<std::size_t>(spec.section)]) + "." +
          std::string(spec.name) + ": " + curve_name(spec.curve) + ", medians " +
          list(spec.median.begin(), spec.median.end()) + ", track_sd " + format_g(spec.track_sd) +
          ", frame_sd " + format_g(spec.frame_sd) + ", rho " + format_g(spec.rho) + "\n";
  }
  md +=
      "- spectral_contrast_valleys.min ~ N(-27.6, 0.4^2); beats_loudness_band_ratio.min = 0 on "
      "70% of tracks.\n";
  md +=
      "\n**hpcp** (36 bins, 3 per semitone from A): level of the key's semitone s = 0.03 + "
      "profile_s^exp(0.3 loc_key_strength) (Krumhansl-Kessler major or minor profile rescaled "
      "to [0, 1]) on the centre bin, plus U(0.1, 0.5) of it on each side bin, times "
      "exp(0.3 N(0, 1)) per bin; frames = level * exp(1.1 x[f]) (rho 0.8), divided by the "
      "frame's maximum. **chords_histogram**: every chord 0 with probability 1/2, else "
      "exp(N(-2.5, 1)); the key's diatonic chords add weight 1 (tonic) to 0.2 times "
      "exp(0.7 N(0, 1)); normalised to 100.\n";
  md +=
      "\n**Cepstra.** mean_i = template_i + sd_i * z_i with z_0 = loc_<name>_level, z_1 = "
      "-loc_<name>_tilt, z_i (i >= 2) = signature element + N(0, 1); cov = D R D with R the "
      "correlation of A A' + 0.6 I (A: 13 x 3, entries N(0, 0.7^2)) and D^2 = variance_i * "
      "exp(0.35 N(0, 1)); icov = cov^-1.\n";
  for (const auto* spec : {&kMfcc, &kGfcc}) {
    md += "- " + std::string(spec->name) + ": template " +
          list(spec->mean.begin(), spec->mean.end()) + "; sd " +
          list(spec->mean_sd.begin(), spec->mean_sd.end()) + "; variance " +
          list(spec->variance.begin(), spec->variance.end()) + "\n";
  }
  return md;
}

std::vector<DescriptorDoc> track_scalar_docs() {
  std::vector<DescriptorDoc> out;
  for (const auto& spec : track_scalar_specs()) {
    DescriptorDoc d;
    d.name = std::string(kSectionNames[static_cast<std::size_t>(spec.section)]) + "." +
             std::string(spec.name);
    d.curve = curve_name(spec.curve);
    d.median = spec.median;
    d.track_sd = spec.track_sd;
    out.push_back(d);
  }
  return out;
}

std::vector<std::string> signature_target_names() {
  std::vector<std::string> names;
  for (std::size_t j = 0; j < kSpectrumPoints; ++j) {
    names.push_back("log-spectrum point " + std::to_string(j) +
                    " of 40 (bark/erb/mel bands there)");
  }
  for (std::size_t i = 2; i <= 12; ++i) names.push_back("lowlevel.mfcc.mean." + std::to_string(i));
  for (std::size_t i = 2; i <= 12; ++i) names.push_back("lowlevel.gfcc.mean." + std::to_string(i));
  for (std::size_t i = 0; i < 6; ++i)
    names.push_back("lowlevel.spectral_contrast_coeffs." + std::to_string(i));
  for (std::size_t i = 0; i < 6; ++i)
    names.push_back("lowlevel.spectral_contrast_valleys." + std::to_string(i));
  for (std::size_t i = 0; i < 6; ++i)
    names.push_back("rhythm.beats_loudness_band_ratio." + std::to_string(i));
  return names;
}

std::vector<std::pair<std::size_t, double>> tag_signature(std::string_view tag,
                                                          std::uint64_t seed) {
  Rng rng(mix64(mix64(seed, kStreamSignature), hash_text(short_tag(tag))));
  std::vector<std::pair<std::size_t, double>> out;
  while (out.size() < kScales.signature_targets) {
    const std::size_t target = rng.below(kSignatureTargets);
    const double sign = rng.chance(0.5) ? 1.0 : -1.0;
    if (std::none_of(out.begin(), out.end(), [&](const auto& p) { return p.first == target; })) {
      out.emplace_back(target, sign);
    }
  }
  return out;
}

TrackDescriptors synthesize_track(const Track& track, std::uint64_t seed) {
  Rng rng(mix64(mix64(seed, kStreamTrack), hash_text(track.track_id)));
  const TrackLatent lat = latent_of(track, seed, rng);
  const auto& loc = lat.loc;
  TrackDescriptors out;
  std::vector<double> x(kSynthFrames), values, scratch;
  const std::array<std::vector<Descriptor>*, 3> sections = {&out.lowlevel, &out.rhythm, &out.tonal};

  // Frame-level descriptors with a stats dict.
  for (std::size_t i = 0; i < frame_specs().size(); ++i) {
    const FrameSpec& spec = frame_specs()[i];
    ar_series(rng, spec.rho, x);
    const double location = spec.curve.base(spec.median) + spec.track_sd * loc[i];
    Stats9 s = curve_stats(spec.curve, location, spec.frame_sd, x, values, scratch);
    apply_min_rule(spec, s, rng);
    sections[static_cast<std::size_t>(spec.section)]->push_back(stats(spec.name, s));
  }

  // silence_rate_{20,30,60}dB: binary frames thresholding one series, so a frame silent at 60 dB
  // is silent at 30 and 20 dB too (rates 20 >= 30 >= 60, as in real files).
  {
    ar_series(rng, 0.95, x);
    const double l = loc[fam("silence_rate")];
    const std::array<std::pair<std::string_view, double>, 3> thresholds = {
        {{"silence_rate_20dB", 2.9 + 0.3 * l},
         {"silence_rate_30dB", 2.2 + 0.3 * l},
         {"silence_rate_60dB", -1.0 + 0.5 * l}}};
    for (const auto& [name, z] : thresholds) {
      values.resize(kSynthFrames);
      for (std::size_t f = 0; f < kSynthFrames; ++f) values[f] = x[f] < z ? 1.0 : 0.0;
      out.lowlevel.push_back(stats(name, stats_of(values, scratch)));
    }
  }

  // Plain per-track numbers (bpm among them; the rhythm below needs it).
  double bpm = 0.0;
  for (const auto& spec : track_scalar_specs()) {
    const double v =
        track_value(spec.curve, spec.median, spec.track_sd, loc[family_index(spec.name)]);
    sections[static_cast<std::size_t>(spec.section)]->push_back(real(spec.name, v));
    if (spec.name == "bpm") bpm = v;
  }
  add_band_descriptors(lat, rng, out.lowlevel, values, scratch);
  for (const auto& spec : kSixBandSpecs)
    add_six_band(spec, lat, rng, *sections[static_cast<std::size_t>(spec.section)], values,
                 scratch);
  // contrast valleys bottom out at the log floor of silent bands; band ratios are 0 on silence.
  for (auto& s : out.lowlevel.back().stats) s.min() = rng.normal(-27.6, 0.4);
  if (rng.chance(0.7)) {
    for (auto& s : out.rhythm.back().stats) s.min() = 0.0;
  }
  out.lowlevel.push_back(cepstrum(kMfcc, lat, rng));
  out.lowlevel.push_back(cepstrum(kGfcc, lat, rng));

  // Rhythm.
  {
    const double first_bpm = std::round(bpm) + static_cast<double>(rng.below(3)) - 1.0;
    const double first_weight =
        track_value(logit_curve(0, 1), 0.5, 0.8, loc[fam("bpm_peak_weight")]);
    out.rhythm.push_back(constant_stats("bpm_histogram_first_peak_bpm", first_bpm));
    out.rhythm.push_back(constant_stats("bpm_histogram_first_peak_spread", rng.uniform(0.1, 0.6)));
    out.rhythm.push_back(constant_stats("bpm_histogram_first_peak_weight", first_weight));
    double second_bpm = 0.0, second_spread = 0.0, second_weight = 0.0;
    if (rng.chance(0.8)) {
      constexpr double kRatios[] = {0.5, 2.0 / 3.0, 1.5, 2.0, 0.95, 1.05};
      second_bpm =
          std::clamp(std::round(bpm * kRatios[rng.below(std::size(kRatios))]), 40.0, 250.0);
      second_spread = rng.uniform(0.1, 0.5);
      second_weight = first_weight * rng.uniform(0.02, 0.5);
    }
    out.rhythm.push_back(constant_stats("bpm_histogram_second_peak_bpm", second_bpm));
    out.rhythm.push_back(constant_stats("bpm_histogram_second_peak_spread", second_spread));
    out.rhythm.push_back(constant_stats("bpm_histogram_second_peak_weight", second_weight));
  }
  out.length =
      track.duration_s > 0 ? track.duration_s + rng.uniform(-0.05, 0.05) : rng.uniform(30.0, 400.0);
  {
    Descriptor beats;
    beats.name = "beats_position";
    beats.kind = Descriptor::Kind::kList;
    const double period = 60.0 / bpm, end = out.length - rng.uniform(0.0, 2.0);
    for (double t = rng.uniform(0.2, 1.0); t < end; t += period * (1.0 + 0.01 * rng.normal())) {
      beats.list.push_back(t);
    }
    out.rhythm.push_back(integer("beats_count", static_cast<double>(beats.list.size())));
    out.rhythm.push_back(std::move(beats));
  }

  // Tonal.
  Tonality tonality;
  tonality.key = rng.below(12);
  tonality.minor = rng.chance(logistic(-0.2 - 1.0 * loc[fam("key_mode")]));
  std::vector<double> hpcp_mean;
  out.tonal.push_back(hpcp_descriptor(tonality, loc[fam("key_strength")], rng, hpcp_mean, scratch));
  {
    // thpcp: the mean hpcp rotated so that its maximum comes first, divided by that maximum.
    const auto top = static_cast<std::size_t>(std::max_element(hpcp_mean.begin(), hpcp_mean.end()) -
                                              hpcp_mean.begin());
    Descriptor thpcp;
    thpcp.name = "thpcp";
    thpcp.kind = Descriptor::Kind::kList;
    for (std::size_t b = 0; b < 36; ++b)
      thpcp.list.push_back(hpcp_mean[(top + b) % 36] / hpcp_mean[top]);
    thpcp.list[0] = 1.0;
    out.tonal.push_back(std::move(thpcp));
  }
  {
    Descriptor hist;
    hist.name = "chords_histogram";
    hist.kind = Descriptor::Kind::kList;
    hist.list = chords_histogram(tonality, rng);
    out.tonal.push_back(std::move(hist));
  }
  out.tonal.push_back(text("key_key", std::string(kKeyNames[tonality.key])));
  out.tonal.push_back(text("key_scale", tonality.minor ? "minor" : "major"));
  {
    // The chords key is mostly the key itself, else its relative major/minor or its dominant.
    Tonality chords = tonality;
    if (const double u = rng.uniform(); u > 0.75) {
      chords.key = (tonality.key + (u > 0.9 ? 7 : (tonality.minor ? 3 : 9))) % 12;
      chords.minor = u > 0.9 ? tonality.minor : !tonality.minor;
    }
    if (chords.minor && rng.chance(0.5)) chords.minor = false;  // real files lean to major
    out.tonal.push_back(text("chords_key", std::string(kKeyNames[chords.key])));
    out.tonal.push_back(text("chords_scale", chords.minor ? "minor" : "major"));
  }
  out.tonal.push_back(real(
      "tuning_frequency", 440.0 * std::exp2((-5.0 + 9.0 * loc[fam("tuning_frequency")]) / 1200.0)));

  // Metadata.
  out.replay_gain = -9.0 - 2.0 * loc[fam("spectrum_level")] + rng.normal(0.0, 0.5);
  out.bit_rate = rng.chance(0.7) ? 320000 : 10 * static_cast<long>(rng.uniform(12800, 32000));
  const std::uint64_t h1 = mix64(mix64(seed, hash_text(track.track_id)), 1), h2 = mix64(h1, 2);
  static constexpr char kHex[] = "0123456789abcdef";
  for (const std::uint64_t h : {h1, h2}) {
    for (int i = 60; i >= 0; i -= 4) out.md5 += kHex[(h >> i) & 0xF];
  }
  return out;
}

}  // namespace moodboost::detail
