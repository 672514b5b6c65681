"""New labels start from old ones: origins through a label map, CRF growth from origins."""

from __future__ import annotations

import torch

from xner.data.corpus import Sentence
from xner.labels.normalise import LabelMap, load_label_map
from xner.labels.origins import inside_conflicts, label_origins, type_domains
from xner.labels.space import LabelSpace
from xner.models.crf import CRF, copy_label_rows

CONLL = LabelSpace.from_types(["location", "misc", "organisation", "person"])


def _grown(types: list[str], old: LabelSpace = CONLL) -> LabelSpace:
    labels = old.copy()
    labels.add_types(types)
    return labels


def test_each_new_tag_starts_from_the_old_tag_of_its_generic_type() -> None:
    new = _grown(["algorithm", "politician", "zorblax"])
    origins = {new.tags[k]: CONLL.tags[v] for k, v in label_origins(CONLL, new, load_label_map()).items()}
    assert origins == {"B-algorithm": "B-misc", "I-algorithm": "I-misc",
                       "B-politician": "B-person", "I-politician": "I-person"}  # zorblax: unmapped


def test_domain_overrides_and_exact_generic_names_win() -> None:
    old = LabelSpace.from_types(["PER", "person", "LOC"])
    label_map = LabelMap({"person": "PER", "hero": "PER"}, {"myth": {"hero": "LOC"}})
    new = _grown(["hero"], old)
    origins = label_origins(old, new, label_map)
    assert [old.tags[origins[new.id(t)]] for t in ("B-hero", "I-hero")] == ["B-PER", "I-PER"]
    origins = label_origins(old, new, label_map, domain="myth")
    assert [old.tags[origins[new.id(t)]] for t in ("B-hero", "I-hero")] == ["B-LOC", "I-LOC"]


def test_pooled_domains_use_each_types_own_overrides() -> None:
    old = LabelSpace.from_types(["PER", "LOC"])
    label_map = LabelMap({"hero": "PER", "villain": "PER"}, {"myth": {"hero": "LOC"}})
    new = _grown(["hero", "villain"], old)
    sentences = [Sentence(("Zed",), ("B-villain",), "myth"), Sentence(("Ann",), ("B-hero",), "news"),
                 Sentence(("Bo",), ("B-hero",), "myth")]
    table = type_domains(sentences)
    assert table == {"villain": "myth", "hero": "news"}  # first sentence carrying the type
    origins = label_origins(old, new, label_map, table)
    assert old.tags[origins[new.id("B-hero")]] == "B-PER"  # news has no override
    table["hero"] = "myth"
    origins = label_origins(old, new, label_map, table)
    assert old.tags[origins[new.id("B-hero")]] == "B-LOC"
    assert old.tags[origins[new.id("B-villain")]] == "B-PER"


def test_no_map_or_a_space_that_does_not_extend_gives_no_origins() -> None:
    assert label_origins(CONLL, _grown(["politician"]), None) == {}
    assert label_origins(CONLL, LabelSpace.from_types(["politician"]), load_label_map()) == {}


def test_inside_conflicts_are_the_type_changes_the_origins_hid() -> None:
    new = _grown(["politician"])
    origins = label_origins(CONLL, new, load_label_map())
    names = {(new.tags[a], new.tags[b]) for a, b in inside_conflicts(new, origins)}
    assert names == {("B-person", "I-politician"), ("I-person", "I-politician"),
                     ("B-politician", "I-person"), ("I-politician", "I-person")}


def _random_crf(num_tags: int) -> CRF:
    crf = CRF(num_tags)
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for param in (crf.start, crf.end, crf.transitions):
            param.copy_(torch.randn(param.shape, generator=gen))
    return crf


def test_crf_grows_new_tags_as_copies_of_their_origins() -> None:
    new = _grown(["politician", "zorblax"])
    origins = label_origins(CONLL, new, load_label_map())
    conflicts = inside_conflicts(new, origins)
    crf = _random_crf(len(CONLL))
    old = {k: v.clone() for k, v in crf.state_dict().items()}
    crf.grow(len(new), origins, conflicts)
    n, t = len(CONLL), crf.transitions
    assert torch.equal(t[:n, :n], old["transitions"]) and torch.equal(crf.start[:n], old["start"])
    bp, ip, bper, iper = (new.id(x) for x in ("B-politician", "I-politician", "B-person", "I-person"))
    assert crf.start[bp] == old["start"][bper] and crf.end[ip] == old["end"][iper]
    assert t[bp, ip] == old["transitions"][bper, iper]  # continuing the entity: as person did
    assert t[new.id("O"), bp] == old["transitions"][0, bper]
    assert t[bper, ip] == old["transitions"][0, iper]  # B-person -> I-politician: like O -> I-person
    assert t[bp, iper] == old["transitions"][0, iper]
    bz = new.id("B-zorblax")  # no origin: zero as before
    assert crf.start[bz] == 0 and torch.all(t[bz] == 0) and torch.all(t[:, bz] == 0)


def test_crf_rejects_an_origin_that_is_not_new_to_old() -> None:
    crf = _random_crf(3)
    for bad in ({1: 0}, {4: 3}):
        try:
            crf.grow(5, bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")


def test_copy_label_rows_copies_weight_and_bias() -> None:
    layer = torch.nn.Linear(4, 5)
    before = layer.weight.detach().clone()
    copy_label_rows(layer, {3: 1, 4: 2})
    assert torch.equal(layer.weight[3], before[1]) and torch.equal(layer.weight[4], before[2])
    assert layer.bias[3] == layer.bias[1] and torch.equal(layer.weight[:3], before[:3])
