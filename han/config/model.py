"""A model's ranges and rules across its settings (its family's dataclass, a Table 2 network's
view and input), which its schema's types cannot say."""

from __future__ import annotations

from collections.abc import Mapping

from omegaconf import DictConfig, OmegaConf

from han.config.rules import apply_rules, integer, integer_or, number, widths

__all__ = ["check_model", "check_network"]


def check_model(cfg: Mapping, errors: list[str]) -> None:
    from han.schema import MODELS

    family = cfg.get("family")
    schema = OmegaConf.get_type(cfg) if isinstance(cfg, DictConfig) else None
    if family in MODELS and schema is not None and schema is not MODELS[family] \
            and issubclass(schema, tuple(MODELS.values())):
        errors.append(f"model.family is {str(family)!r} but model.name={cfg.get('name')} is a "
                      f"{schema.__name__}; choose a {family} model with model=<name> instead")
    if cfg.get("network") is not None:  # Table 2's networks without attention (han/table2/)
        check_network(cfg, errors)
        return
    if family == "linear":  # Table 2's linear rows; features and classifier are typed choices
        apply_rules(errors, cfg, "model", {
            "max_iter": integer(1), "min_df": integer(1), "embedding_dim": integer(1),
            "word2vec_window": integer(1), "word2vec_epochs": integer(1, nullable=True),
            "vector_size": integer(1), "pv_window": integer(1), "pv_epochs": integer(1),
            "pv_min_count": integer(1), "pv_negative": integer(0)})
        if "pv_modes" in cfg and not list(cfg.pv_modes):
            errors.append("model.pv_modes is []; list one or both of: dm, dbow")
        return
    apply_rules(errors, cfg, "model", {
        "embedding_dim": integer_or("from_file"),  # from_file: a pretrained file's size
        "gru_units": integer(1),
        "attention_dim": integer(1),
        "word_chunks": integer(1),
        "dropout": number(0, 1, high_open=True),
        "embedding_dropout": number(0, 1, high_open=True),
        "sentence_dropout": number(0, 1, high_open=True),
        "word_dropout": number(0, 1, high_open=True),
        "word2vec_window": integer(1),
        "word2vec_epochs": integer(1, nullable=True),  # null: sized to the corpus
    })


def check_network(cfg: Mapping, errors: list[str]) -> None:
    """A Table 2 network's sizes; its view (family) and input are the architecture's."""
    from han.schema import NETWORKS

    network = str(cfg.get("network"))
    if network not in NETWORKS:
        errors.append(f"model.network is {network!r}; it must be one of: " + ", ".join(NETWORKS))
        return
    fields = NETWORKS[network].__dataclass_fields__
    if str(cfg.get("family")) != str(fields["family"].default):
        errors.append(f"model.family is {str(cfg.get('family'))!r} but model.network={network} "
                      f"reads the {fields['family'].default} view; leave model.family as "
                      f"model={network} sets it (remove the override)")
    if network == "cnn_char" and str(cfg.get("embedding_init")) != "random":
        errors.append(f"model.embedding_init is {str(cfg.get('embedding_init'))!r} but "
                      "model=cnn_char reads one-hot characters, not word embeddings; leave it "
                      "random")
    apply_rules(errors, cfg, "model", {
        "dropout": number(0, 1, high_open=True),
        "embedding_dim": integer(1), "filter_widths": widths, "filters": integer(1),
        "lstm_units": integer(1), "gru_units": integer(1), "conv_filters": integer(1),
        "hidden_units": integer(1), "max_chars": integer(1),
        "init_stddev": number(0, low_open=True),
        "word2vec_window": integer(1), "word2vec_epochs": integer(1, nullable=True),
    })
