"""moodboost: music mood/theme auto-tagging on Essentia/AcousticBrainz descriptors.

    import moodboost
    X, names = moodboost.load_features("features", "splits/x-test.tsv", schema="model/schema.json")
    model = moodboost.Model.load("model")
    scores = model.predict(X)                 # float64, tracks x model.tags
    ids, truth = moodboost.load_split("splits/x-test.tsv", model.tags)
    print(moodboost.evaluate(truth, scores, model.decide(scores))["PR-AUC-macro"])

The C++ library does the work (the extension module _moodboost); see README.md, "From Python".
"""

from ._moodboost import (  # noqa: F401
    DataError,
    Error,
    FeatureSchema,
    InvalidArgument,
    IoError,
    Model,
    ModelDirWriter,
    ParseError,
    TreeRunSettings,
    XgbError,
    __version__,
    discover_schema,
    evaluate,
    find_splits,
    load_features,
    load_split,
    train,
    xgboost_version,
)
