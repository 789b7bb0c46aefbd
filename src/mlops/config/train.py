"""The `train:` section of mlops.yaml: what to fit, on which columns, how to split and score."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from mlops.config.base import Section, Switchable

# Estimator parameters whose type is the same for every scikit-learn estimator that takes them:
# the loader and the JSON Schema both check these, so `max_iter: ten` fails at load, naming the
# file and line, not after the data has been read. Others pass through to the estimator.
PARAM_TYPES: dict[str, tuple[str, ...]] = {
    "max_iter": ("integer",),
    "n_estimators": ("integer",),
    "max_depth": ("integer", "null"),
    "max_leaf_nodes": ("integer", "null"),
    "C": ("number",),
    "tol": ("number", "null"),
    "random_state": ("integer", "null"),
    "n_jobs": ("integer", "null"),
}


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind == "integer" else isinstance(value, int | float)


def _params_schema(schema: dict[str, Any]) -> None:
    schema["properties"] = {
        key: {"type": list(kinds) if len(kinds) > 1 else kinds[0]}
        for key, kinds in PARAM_TYPES.items()
    }


class SplitConfig(Section):
    """How the training data is split into a fit part and a holdout part."""

    method: Literal["random", "stratified", "time"] | None = Field(
        None,
        description="random, stratified (by the target) or time (train on the past, test on the "
        "most recent rows); default: stratified for classification, random for regression",
    )
    test_size: float = Field(
        0.2, gt=0.0, lt=1.0, description="share of rows held out for scoring (0 < x < 1)"
    )
    time_column: str | None = Field(
        None, description="column ordering rows for a time split (default: data.time_column)"
    )


class NumericPreprocessing(Section):
    impute: Literal["median", "mean", "most_frequent", "constant", "none"] = Field(
        "median", description="how missing numeric values are filled ('none' keeps them)"
    )
    scale: Literal["standard", "minmax", "robust", "none"] = Field(
        "standard", description="how numeric columns are scaled"
    )


class CategoricalPreprocessing(Section):
    impute: Literal["constant", "most_frequent", "none"] = Field(
        "constant", description="how missing categories are filled ('constant' adds 'missing')"
    )
    encode: Literal["onehot", "ordinal", "none"] = Field(
        "onehot", description="onehot (unknown categories ignored) or ordinal (unknown -> -1)"
    )
    max_categories: int | None = Field(
        None, ge=2, description="onehot: keep at most this many categories per column"
    )
    min_frequency: int | float | None = Field(
        None, gt=0, description="onehot: categories rarer than this are grouped as infrequent"
    )


class PreprocessingConfig(Switchable):
    """Default: impute and scale numeric columns, one-hot encode categorical ones, in a
    ColumnTransformer in front of the estimator. `preprocessing: false` passes columns through."""

    enabled: bool = Field(True, description="false: give the estimator the raw columns")
    numeric: NumericPreprocessing = Field(default_factory=NumericPreprocessing)
    categorical: CategoricalPreprocessing = Field(default_factory=CategoricalPreprocessing)
    numeric_columns: list[str] | None = Field(
        None, description="treat exactly these features as numeric (default: by dtype)"
    )
    categorical_columns: list[str] | None = Field(
        None, description="treat exactly these features as categorical (default: by dtype)"
    )
    transformer: str | None = Field(
        None,
        description="import path of a scikit-learn transformer replacing the default "
        "preprocessing (e.g. mypkg.features.MyTransformer)",
    )
    transformer_params: dict[str, Any] = Field(
        default_factory=dict, description="keyword arguments for `transformer`"
    )


class ImportanceConfig(Switchable):
    """Permutation importance on a bounded sample of the holdout (cost stays small next to fit)."""

    enabled: bool = Field(True, description="compute permutation importance on the holdout")
    max_rows: int = Field(2000, ge=10, description="holdout rows sampled for importance")
    repeats: int = Field(3, ge=1, le=50, description="shuffles per feature")
    max_predict_rows: int = Field(
        10_000,
        ge=100,
        description="cap on rows predicted in total (sample rows x features x repeats); the "
        "sample shrinks to fit it, so the cost stays a fraction of scoring the holdout",
    )
    metric: str | None = Field(
        None, description="metric to permute against (default: the first train.metrics entry)"
    )


class TrainConfig(Section):
    """What to fit. Columns default to every column but the target, id and time columns."""

    target: str | None = Field(None, description="the column to predict (required to train)")
    features: list[str] | None = Field(
        None, description="feature columns (default: all but target, id, time and `exclude`)"
    )
    exclude: list[str] = Field(default_factory=list, description="columns never used as features")
    task: Literal["classification", "regression"] | None = Field(
        None, description="classification or regression (default: inferred from the target)"
    )
    estimator: str | None = Field(
        None,
        description="import path of a scikit-learn-compatible estimator class, or a "
        "scikit-learn class name (default: HistGradientBoostingClassifier/Regressor)",
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="keyword arguments for the estimator",
        json_schema_extra=_params_schema,
    )
    preprocessing: PreprocessingConfig = Field(default_factory=PreprocessingConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    random_state: int = Field(
        42, description="seed for the split, CV folds and the estimator (when it takes one)"
    )
    cv: int | None = Field(
        None, ge=2, le=100, description="k for k-fold cross-validation on the fit part (off)"
    )
    metrics: list[str] | None = Field(
        None,
        description="scikit-learn metric names (accuracy, f1, roc_auc, log_loss, precision, "
        "recall, rmse, mae, r2, ...); default per task",
    )
    positive_class: str | int | bool | None = Field(
        None, description="binary classification: the positive label (default: the larger one)"
    )
    importance: ImportanceConfig = Field(default_factory=ImportanceConfig)
    sample_rows: int | None = Field(
        None,
        ge=100,
        description="fit on a uniform sample of this many rows (seeded by random_state); the "
        "reference profile still covers every row (default: all rows)",
    )
    dataset_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        description="name of the dataset artifact for the training data (default: PROJECT-train)",
    )

    @field_validator("params")
    @classmethod
    def _param_types(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, kinds in PARAM_TYPES.items():
            if key in v and not any(_is(v[key], k) for k in kinds):
                raise ValueError(
                    f"params.{key} must be {' or '.join(kinds)} (as every scikit-learn estimator "
                    f"takes it), got {v[key]!r}"
                )
        return v

    @field_validator("features", "exclude", "metrics", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v
