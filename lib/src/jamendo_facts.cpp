// Facts of the real MTG-Jamendo autotagging_moodtheme split-0, transcribed from
// data/jamendo_moodtheme_split0_tags.tsv and data/jamendo_moodtheme_split0_splits.tsv (which say
// where they come from). tests/test_synth.cpp checks that these tables and the data/ files agree,
// and, when ../shared is present, that they agree with the real split files.
#include "moodboost/synth.hpp"

namespace moodboost {
namespace {

constexpr JamendoTagFacts kTags[] = {
    {"action", {296, 55, 56}},        {"adventure", {264, 78, 106}},
    {"advertising", {363, 147, 163}}, {"background", {404, 32, 60}},
    {"ballad", {193, 58, 83}},        {"calm", {267, 104, 86}},
    {"children", {152, 119, 185}},    {"christmas", {368, 74, 181}},
    {"commercial", {191, 70, 167}},   {"cool", {170, 34, 47}},
    {"corporate", {349, 118, 142}},   {"dark", {620, 231, 351}},
    {"deep", {429, 69, 137}},         {"documentary", {339, 123, 150}},
    {"drama", {253, 90, 81}},         {"dramatic", {195, 34, 88}},
    {"dream", {498, 207, 246}},       {"emotional", {499, 357, 415}},
    {"energetic", {857, 233, 267}},   {"epic", {601, 167, 214}},
    {"fast", {62, 26, 31}},           {"film", {746, 187, 569}},
    {"fun", {220, 187, 73}},          {"funny", {109, 23, 71}},
    {"game", {169, 26, 66}},          {"groovy", {78, 74, 42}},
    {"happy", {927, 392, 338}},       {"heavy", {98, 33, 25}},
    {"holiday", {98, 35, 43}},        {"hopeful", {137, 36, 43}},
    {"inspiring", {561, 136, 180}},   {"love", {493, 212, 204}},
    {"meditative", {374, 161, 207}},  {"melancholic", {228, 111, 102}},
    {"melodic", {598, 368, 247}},     {"motivational", {372, 75, 188}},
    {"movie", {207, 113, 93}},        {"nature", {137, 65, 57}},
    {"party", {127, 84, 55}},         {"positive", {376, 64, 99}},
    {"powerful", {106, 47, 85}},      {"relaxing", {763, 278, 309}},
    {"retro", {139, 41, 33}},         {"romantic", {363, 118, 146}},
    {"sad", {375, 147, 227}},         {"sexy", {59, 37, 26}},
    {"slow", {295, 53, 89}},          {"soft", {208, 128, 129}},
    {"soundscape", {415, 36, 29}},    {"space", {362, 93, 48}},
    {"sport", {201, 38, 58}},         {"summer", {261, 91, 153}},
    {"trailer", {159, 71, 40}},       {"travel", {89, 49, 33}},
    {"upbeat", {216, 132, 96}},       {"uplifting", {449, 139, 105}},
};

constexpr JamendoSplitFacts kSplits[] = {
    {"train", 9949, 874, 2471, 17885, {5261, 2734, 1081, 574, 196, 87, 13, 3}},
    {"validation", 3802, 307, 927, 6306, {2083, 1179, 353, 135, 46, 6, 0, 0}},
    {"test", 4231, 327, 1025, 7564, {2246, 1149, 490, 218, 94, 30, 4, 0}},
};

}  // namespace

std::span<const JamendoTagFacts> jamendo_split0_tags() { return kTags; }

std::span<const JamendoSplitFacts> jamendo_split0_splits() { return kSplits; }

}  // namespace moodboost
