#include "detail/linear_model.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "detail/json_util.hpp"
#include "moodboost/error.hpp"

namespace moodboost::detail {
namespace {

rapidjson::Document parse_model(std::string_view model_json) {
  return parse_json(model_json, "the gblinear model");
}

// learner.gradient_booster when it is gblinear, else nullptr.
rapidjson::Value* gblinear_booster(rapidjson::Document& doc) {
  auto learner = doc.FindMember("learner");
  if (learner == doc.MemberEnd() || !learner->value.IsObject()) return nullptr;
  auto booster = learner->value.FindMember("gradient_booster");
  if (booster == learner->value.MemberEnd() || !booster->value.IsObject()) return nullptr;
  auto name = booster->value.FindMember("name");
  if (name == booster->value.MemberEnd() || !name->value.IsString() ||
      std::string_view(name->value.GetString()) != "gblinear") {
    return nullptr;
  }
  return &booster->value;
}

rapidjson::Value& weights_array(rapidjson::Document& doc, std::size_t columns) {
  rapidjson::Value* booster = gblinear_booster(doc);
  if (booster == nullptr) throw DataError("the model is not an XGBoost gblinear model");
  auto model = booster->FindMember("model");
  if (model == booster->MemberEnd() || !model->value.IsObject()) {
    throw DataError("the gblinear model has no learner/gradient_booster/model object");
  }
  auto weights = model->value.FindMember("weights");
  if (weights == model->value.MemberEnd() || !weights->value.IsArray() ||
      weights->value.Size() != columns + 1) {
    throw DataError("the gblinear model's weights are not " + std::to_string(columns + 1) +
                    " numbers (" + std::to_string(columns) + " columns and the bias)");
  }
  for (const auto& w : weights->value.GetArray()) {
    if (!w.IsNumber()) throw DataError("the gblinear model has a weight that is not a number");
  }
  return weights->value;
}

}  // namespace

bool is_gblinear(std::string_view model_json) {
  try {
    rapidjson::Document doc = parse_model(model_json);
    return gblinear_booster(doc) != nullptr;
  } catch (const ParseError&) {
    return false;
  }
}

LinearWeights gblinear_weights(std::string_view model_json, std::size_t columns) {
  rapidjson::Document doc = parse_model(model_json);
  const rapidjson::Value& weights = weights_array(doc, columns);
  LinearWeights out;
  for (std::size_t c = 0; c < columns; ++c) {
    out.weights.push_back(weights[static_cast<rapidjson::SizeType>(c)].GetDouble());
  }
  out.bias = weights[static_cast<rapidjson::SizeType>(columns)].GetDouble();
  return out;
}

std::string fold_scaler_into_gblinear(std::string_view model_json, const ColumnScaler& scaler) {
  rapidjson::Document doc = parse_model(model_json);
  rapidjson::Value& weights = weights_array(doc, scaler.size());
  double bias = weights[static_cast<rapidjson::SizeType>(scaler.size())].GetDouble();
  for (std::size_t c = 0; c < scaler.size(); ++c) {
    auto& w = weights[static_cast<rapidjson::SizeType>(c)];
    const double standardized = w.GetDouble();
    double raw = 0.0;
    if (scaler.sd[c] > 0) {
      raw = standardized / scaler.sd[c];
      bias -= standardized * scaler.mean[c] / scaler.sd[c];
    }
    // XGBoost keeps weights as float: store exactly the float it will read.
    w.SetDouble(static_cast<double>(static_cast<float>(raw)));
  }
  weights[static_cast<rapidjson::SizeType>(scaler.size())].SetDouble(
      static_cast<double>(static_cast<float>(bias)));
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace moodboost::detail
