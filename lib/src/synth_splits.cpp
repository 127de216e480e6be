// Synthetic split sets shaped like MTG-Jamendo split-0 (see synth.hpp for the contract).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "detail/synth_random.hpp"
#include "moodboost/error.hpp"
#include "moodboost/synth.hpp"

namespace moodboost {
namespace {

using detail::mix64;
using detail::Rng;

// Keys of the random streams of split generation (mixed with the seed).
enum SplitStream : std::uint64_t {
  kStreamSizes = 1,
  kStreamTagsPerTrack,
  kStreamAssignment,
  kStreamArtists,
  kStreamIds,
  kStreamDurations,
};

// The generator keeps the mean number of tags per track at most this (the real splits have
// 1.66-1.80); beyond it a split is too small for its tags and generation is refused.
constexpr double kMaxMeanTagsPerTrack = 4.0;
constexpr std::size_t kMaxTagsPerTrack = 8;
// Weights of artists are log-normal with this sigma: with the real artist counts it gives a
// median of about 4 tracks per artist, ~25% single-track artists and a few artists with hundreds
// of tracks, like split-0 (median 4, 233 of 874 train artists with one track, max 378).
constexpr double kArtistWeightSigma = 1.7;
// The largest real artist has 3.8% (train) to 9.4% (validation) of a split.
constexpr double kMaxArtistShare = 0.08;
// Durations: log-normal around the real median (~200 s), 5% short tracks, clamped to [30, 1800].
constexpr double kDurationMedian = 200.0, kDurationSigma = 0.5, kShortTrackShare = 0.05;
// Synthetic ids: tracks 9,000,000-9,999,999, artists and albums 900,000-999,999.
constexpr std::uint32_t kFirstTrackId = 9'000'000, kLastTrackId = 9'999'999;
constexpr std::uint32_t kFirstGroupId = 900'000, kGroupIdRange = 100'000;

struct SplitPlan {
  std::size_t tracks = 0;
  std::size_t artists = 0;
  std::size_t albums = 0;
  std::vector<std::size_t> positives;  // per tag
  std::size_t labels = 0;
};

// Splits `total` into parts proportional to `weights` (largest remainder, ties to the first).
std::vector<std::size_t> apportion(std::size_t total, const std::vector<double>& weights) {
  const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<std::size_t> parts(weights.size());
  std::vector<std::pair<double, std::size_t>> remainders;
  std::size_t used = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const double exact = static_cast<double>(total) * weights[i] / sum;
    parts[i] = static_cast<std::size_t>(std::floor(exact));
    used += parts[i];
    remainders.emplace_back(-(exact - std::floor(exact)), i);
  }
  std::stable_sort(remainders.begin(), remainders.end());
  for (std::size_t r = 0; used < total; ++r, ++used) ++parts[remainders[r].second];
  return parts;
}

std::vector<SplitPlan> plan_splits(std::size_t total_tracks, std::size_t min_positives) {
  const auto facts = jamendo_split0_splits();
  const auto tags = jamendo_split0_tags();
  std::vector<double> real_sizes;
  for (const auto& s : facts) real_sizes.push_back(static_cast<double>(s.tracks));
  const std::vector<std::size_t> sizes = apportion(total_tracks, real_sizes);

  std::vector<SplitPlan> plans(facts.size());
  for (std::size_t s = 0; s < facts.size(); ++s) {
    SplitPlan& plan = plans[s];
    plan.tracks = sizes[s];
    const double scale = static_cast<double>(sizes[s]) / static_cast<double>(facts[s].tracks);
    const auto scaled = [&](std::size_t real, std::size_t minimum) {
      return std::max(minimum,
                      static_cast<std::size_t>(std::llround(static_cast<double>(real) * scale)));
    };
    plan.artists = std::min(plan.tracks, scaled(facts[s].artists, 1));
    plan.albums = std::clamp(scaled(facts[s].albums, 1), plan.artists, plan.tracks);
    for (const auto& tag : tags) {
      // At full scale (scale == 1) this is exactly the real count.
      plan.positives.push_back(scaled(tag.positives[s], min_positives));
      plan.labels += plan.positives.back();
    }
  }
  return plans;
}

bool plan_fits(const std::vector<SplitPlan>& plans) {
  for (const auto& plan : plans) {
    if (plan.tracks == 0) return false;
    if (static_cast<double>(plan.labels) >
        kMaxMeanTagsPerTrack * static_cast<double>(plan.tracks)) {
      return false;
    }
    if (plan.labels < plan.tracks) return false;
    for (const std::size_t p : plan.positives) {
      if (p > plan.tracks) return false;
    }
  }
  return true;
}

// Number of tags of each track: the real distribution of the split scaled to the split's size,
// then moved one tag at a time (random tracks) until the total equals the planned labels.
std::vector<std::size_t> tags_per_track(const SplitPlan& plan, const JamendoSplitFacts& facts,
                                        std::size_t tag_count, Rng& rng) {
  std::vector<double> hist(facts.tracks_with_k_tags.begin(), facts.tracks_with_k_tags.end());
  const std::vector<std::size_t> counts = apportion(plan.tracks, hist);
  std::vector<std::size_t> k;
  for (std::size_t i = 0; i < counts.size(); ++i) k.insert(k.end(), counts[i], i + 1);
  const std::size_t k_max = std::min(kMaxTagsPerTrack, tag_count);
  std::size_t total = 0;
  for (auto& v : k) {
    v = std::min(v, k_max);
    total += v;
  }
  while (total < plan.labels) {
    std::size_t& v = k[rng.below(k.size())];
    if (v < k_max) ++v, ++total;
  }
  while (total > plan.labels) {
    std::size_t& v = k[rng.below(k.size())];
    if (v > 1) --v, --total;
  }
  return k;
}

// Gives track i exactly k[i] distinct tags and tag t exactly positives[t] tracks: the
// positives are dealt out in random order (a configuration model), then every repeated tag of a
// track is swapped with a random slot of another track where the swap repeats nothing.
std::vector<std::vector<std::size_t>> assign_tags(const std::vector<std::size_t>& k,
                                                  const std::vector<std::size_t>& positives,
                                                  Rng& rng) {
  std::vector<std::size_t> slots;
  for (std::size_t t = 0; t < positives.size(); ++t) slots.insert(slots.end(), positives[t], t);
  for (std::size_t i = slots.size(); i > 1; --i) std::swap(slots[i - 1], slots[rng.below(i)]);

  std::vector<std::vector<std::size_t>> tracks(k.size());
  std::size_t next = 0;
  for (std::size_t i = 0; i < k.size(); ++i) {
    tracks[i].assign(slots.begin() + static_cast<std::ptrdiff_t>(next),
                     slots.begin() + static_cast<std::ptrdiff_t>(next + k[i]));
    next += k[i];
  }
  const auto has = [](const std::vector<std::size_t>& v, std::size_t tag) {
    return std::find(v.begin(), v.end(), tag) != v.end();
  };
  for (std::size_t i = 0; i < tracks.size(); ++i) {
    for (std::size_t a = 1; a < tracks[i].size(); ++a) {
      const auto first = tracks[i].begin();
      if (std::find(first, first + static_cast<std::ptrdiff_t>(a), tracks[i][a]) ==
          first + static_cast<std::ptrdiff_t>(a)) {
        continue;
      }
      for (std::size_t attempt = 0;; ++attempt) {
        if (attempt > 10'000'000) throw DataError("synth: cannot place the tags of a split");
        const std::size_t j = rng.below(tracks.size());
        if (j == i) continue;
        const std::size_t q = rng.below(tracks[j].size());
        const std::size_t mine = tracks[i][a], theirs = tracks[j][q];
        if (has(tracks[i], theirs) || has(tracks[j], mine)) continue;
        tracks[i][a] = theirs;
        tracks[j][q] = mine;
        break;
      }
    }
  }
  for (auto& v : tracks) std::sort(v.begin(), v.end());
  return tracks;
}

// Draws `count` distinct numbers in [first, first + range).
std::vector<std::uint32_t> distinct_ids(std::size_t count, std::uint32_t first, std::uint32_t range,
                                        Rng& rng) {
  std::unordered_set<std::uint32_t> used;
  std::vector<std::uint32_t> ids;
  while (ids.size() < count) {
    const auto id = first + static_cast<std::uint32_t>(rng.below(range));
    if (used.insert(id).second) ids.push_back(id);
  }
  return ids;
}

struct Album {
  std::size_t split = 0;
  std::uint32_t artist = 0, album = 0;
  std::vector<std::size_t> tracks;  // indices into the split's tracks
};

// Groups each split's tracks into artists (log-normal weights, every artist at least one track)
// and each artist's tracks into albums (each album at least one track).
std::vector<Album> group_tracks(const std::vector<SplitPlan>& plans, Rng& rng) {
  std::size_t total_artists = 0, total_albums = 0;
  for (const auto& p : plans) total_artists += p.artists, total_albums += p.albums;
  const auto artist_ids = distinct_ids(total_artists, kFirstGroupId, kGroupIdRange, rng);
  const auto album_ids = distinct_ids(total_albums, kFirstGroupId, kGroupIdRange, rng);
  std::size_t next_artist = 0, next_album = 0;

  std::vector<Album> albums;
  for (std::size_t s = 0; s < plans.size(); ++s) {
    const SplitPlan& plan = plans[s];
    // No artist gets more than kMaxArtistShare of a split (but room for every track): without
    // the cap, one artist could own most of a small split. A full artist leaves the draw.
    const auto ceil_div = [](std::size_t a, std::size_t b) { return (a + b - 1) / b; };
    const std::size_t cap = std::max(
        ceil_div(plan.tracks, plan.artists),
        static_cast<std::size_t>(std::ceil(kMaxArtistShare * static_cast<double>(plan.tracks))));
    std::vector<double> weight(plan.artists), cumulative(plan.artists);
    for (auto& w : weight) w = std::exp(kArtistWeightSigma * rng.normal());
    double sum = 0.0;
    const auto accumulate_weights = [&] {
      sum = 0.0;
      for (std::size_t a = 0; a < plan.artists; ++a) cumulative[a] = (sum += weight[a]);
    };
    accumulate_weights();
    std::vector<std::vector<std::size_t>> artist_tracks(plan.artists);
    for (std::size_t i = 0; i < plan.tracks; ++i) {
      std::size_t a = i;  // the first `artists` tracks give every artist one track
      if (i >= plan.artists) {
        a = static_cast<std::size_t>(
            std::upper_bound(cumulative.begin(), cumulative.end(), rng.uniform() * sum) -
            cumulative.begin());
        a = std::min(a, plan.artists - 1);
        while (weight[a] == 0.0) a = (a + 1) % plan.artists;  // rounding at a zero-width slot
      }
      artist_tracks[a].push_back(i);
      if (artist_tracks[a].size() == cap) {
        weight[a] = 0.0;
        accumulate_weights();
      }
    }
    // Albums per artist: one each, then the extra albums go to artists with weight = tracks
    // not yet in an album of their own.
    std::vector<std::size_t> album_count(plan.artists, 1);
    for (std::size_t extra = plan.albums - plan.artists; extra > 0;) {
      const std::size_t a = rng.below(plan.artists);
      const std::size_t spare = artist_tracks[a].size() - album_count[a];
      if (spare > 0 &&
          rng.uniform() * 32.0 < static_cast<double>(std::min<std::size_t>(spare, 32))) {
        ++album_count[a];
        --extra;
      }
    }
    for (std::size_t a = 0; a < plan.artists; ++a) {
      auto& own = artist_tracks[a];
      for (std::size_t i = own.size(); i > 1; --i) std::swap(own[i - 1], own[rng.below(i)]);
      const std::uint32_t artist_id = artist_ids[next_artist++];
      const std::size_t first_album = albums.size();
      for (std::size_t b = 0; b < album_count[a]; ++b) {
        albums.push_back({s, artist_id, album_ids[next_album++], {}});
      }
      for (std::size_t i = 0; i < own.size(); ++i) {
        const std::size_t b = i < album_count[a] ? i : rng.below(album_count[a]);
        albums[first_album + b].tracks.push_back(own[i]);
      }
    }
  }
  return albums;
}

double draw_duration(Rng& rng) {
  double d = rng.chance(kShortTrackShare)
                 ? rng.uniform(30.0, 90.0)
                 : kDurationMedian * std::exp(kDurationSigma * rng.normal());
  d = std::clamp(d, 30.0, 1800.0);
  return std::round(d * 10.0) / 10.0;
}

std::string tag_full_name(std::string_view short_name) {
  return std::string(kMoodThemePrefix) + std::string(short_name);
}

}  // namespace

std::size_t min_synthetic_tracks(const SynthSplitOptions& options) {
  for (std::size_t n = 3; n <= kJamendoSplit0Tracks; ++n) {
    if (plan_fits(plan_splits(n, options.min_positives))) return n;
  }
  return kJamendoSplit0Tracks + 1;
}

SynthSplitSet generate_synthetic_splits(const SynthSplitOptions& options) {
  if (options.tracks > kJamendoSplit0Tracks) {
    throw InvalidArgument(fmt::format(
        "synthetic tracks: {} is more than the {} tracks of the real split set; synth only "
        "scales down",
        options.tracks, kJamendoSplit0Tracks));
  }
  if (options.min_positives < 1) throw InvalidArgument("synthetic min positives must be >= 1");
  const std::vector<SplitPlan> plans = plan_splits(options.tracks, options.min_positives);
  if (!plan_fits(plans)) {
    throw InvalidArgument(fmt::format(
        "synthetic tracks: {} tracks are too few for 56 tags with at least {} positives per "
        "split; use at least {}",
        options.tracks, options.min_positives, min_synthetic_tracks(options)));
  }

  const auto tag_facts = jamendo_split0_tags();
  const auto split_facts = jamendo_split0_splits();
  SynthSplitSet set;
  for (const auto& t : tag_facts) set.tags.push_back(tag_full_name(t.name));

  // Tags of every track, split by split.
  std::array<std::vector<std::vector<std::size_t>>, 3> tags_of;
  for (std::size_t s = 0; s < plans.size(); ++s) {
    Rng k_rng(mix64(mix64(options.seed, kStreamTagsPerTrack), s));
    const auto k = tags_per_track(plans[s], split_facts[s], set.tags.size(), k_rng);
    Rng assign_rng(mix64(mix64(options.seed, kStreamAssignment), s));
    tags_of[s] = assign_tags(k, plans[s].positives, assign_rng);
  }

  // Artists, albums, then track ids: every album is a block of nearly consecutive ids (as
  // releases uploaded together), albums of all splits in random order.
  Rng group_rng(mix64(options.seed, kStreamArtists));
  std::vector<Album> albums = group_tracks(plans, group_rng);
  Rng id_rng(mix64(options.seed, kStreamIds));
  for (std::size_t i = albums.size(); i > 1; --i) std::swap(albums[i - 1], albums[id_rng.below(i)]);
  Rng duration_rng(mix64(options.seed, kStreamDurations));

  struct Row {
    std::uint32_t id;
    Track track;
  };
  std::array<std::vector<Row>, 3> rows;
  std::uint32_t cursor = kFirstTrackId + static_cast<std::uint32_t>(id_rng.below(1000));
  for (const Album& album : albums) {
    for (const std::size_t i : album.tracks) {
      cursor += 1 + (id_rng.chance(0.1) ? static_cast<std::uint32_t>(id_rng.below(5)) : 0);
      if (cursor > kLastTrackId) throw DataError("synth: ran out of synthetic track ids");
      Track t;
      t.track_id = fmt::format("track_{:07d}", cursor);
      t.artist_id = fmt::format("artist_{:06d}", album.artist);
      t.album_id = fmt::format("album_{:06d}", album.album);
      t.path = fmt::format("{:02d}/{}.mp3", cursor % 100, cursor);
      t.duration_s = draw_duration(duration_rng);
      for (const std::size_t tag : tags_of[album.split][i]) t.tags.push_back(set.tags[tag]);
      rows[album.split].push_back({cursor, std::move(t)});
    }
    cursor += 1 + static_cast<std::uint32_t>(id_rng.below(40));
  }
  for (std::size_t s = 0; s < rows.size(); ++s) {
    std::sort(rows[s].begin(), rows[s].end(),
              [](const Row& a, const Row& b) { return a.id < b.id; });
    for (auto& row : rows[s]) set.splits[s].push_back(std::move(row.track));
  }
  return set;
}

std::string format_split_tsv(std::span<const Track> tracks) {
  std::string out = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS\r\n";
  for (const auto& t : tracks) {
    out += fmt::format("{}\t{}\t{}\t{}\t{:.1f}", t.track_id, t.artist_id, t.album_id, t.path,
                       t.duration_s);
    for (const auto& tag : t.tags) {
      out += '\t';
      out += tag;
    }
    out += "\r\n";
  }
  return out;
}

std::string format_tag_list(std::span<const std::string> tags) {
  std::string out;
  for (const auto& tag : tags) {
    out += tag;
    out += '\n';
  }
  return out;
}

}  // namespace moodboost
