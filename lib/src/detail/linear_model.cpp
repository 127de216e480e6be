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

// The member \p name of \p value when \p value is an object holding one, else nullptr. (Comparing
// RapidJSON's mutable member iterators is ambiguous in C++20, hence no FindMember here.)
rapidjson::Value* member(rapidjson::Value& value, const char* name) {
  return value.IsObject() && value.HasMember(name) ? &value[name] : nullptr;
}

// learner.gradient_booster when it is gblinear, else nullptr.
rapidjson::Value* gblinear_booster(rapidjson::Document& doc) {
  rapidjson::Value* learner = member(doc, "learner");
  rapidjson::Value* booster = learner ? member(*learner, "gradient_booster") : nullptr;
  const rapidjson::Value* name = booster ? member(*booster, "name") : nullptr;
  if (name == nullptr || !name->IsString() || std::string_view(name->GetString()) != "gblinear") {
    return nullptr;
  }
  return booster;
}

rapidjson::Value& weights_array(rapidjson::Document& doc, std::size_t columns) {
  rapidjson::Value* booster = gblinear_booster(doc);
  if (booster == nullptr) throw DataError("the model is not an XGBoost gblinear model");
  rapidjson::Value* model = member(*booster, "model");
  if (model == nullptr || !model->IsObject()) {
    throw DataError("the gblinear model has no learner/gradient_booster/model object");
  }
  rapidjson::Value* weights = member(*model, "weights");
  if (weights == nullptr || !weights->IsArray() || weights->Size() != columns + 1) {
    throw DataError("the gblinear model's weights are not " + std::to_string(columns + 1) +
                    " numbers (" + std::to_string(columns) + " columns and the bias)");
  }
  for (const auto& w : weights->GetArray()) {
    if (!w.IsNumber()) throw DataError("the gblinear model has a weight that is not a number");
  }
  return *weights;
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
