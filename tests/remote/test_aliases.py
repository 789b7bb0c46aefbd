"""Two machines promote at once: exactly one wins on the remote, the loser exits 1."""

from __future__ import annotations

from pathlib import Path

from helpers.remote import fsck_ok, machine, mlops, train
from helpers.store import assert_alias_chains
from mlops.store import Store


def test_racing_promotions_have_one_winner_and_a_complete_history(
    tmp_path: Path, remote_url: str
) -> None:
    a, b = machine(tmp_path, "a", remote_url), machine(tmp_path, "b", remote_url)
    base = train(a, b"base", promote="production")
    assert mlops(a, "push")[0] == 0
    assert mlops(b, "pull", "churn@production")[0] == 0
    new_a = train(a, b"from-a", promote="production")
    new_b = train(b, b"from-b", promote="production")

    assert mlops(a, "push")[0] == 0
    code, doc, err = mlops(b, "push")
    assert code == 1, err
    assert "moved on the remote by another machine" in err and "mlops fetch" in err
    assert doc["conflicts"][0]["holder"] == new_a.id

    assert mlops(b, "fetch")[0] == 0
    with Store.open(b, create=False) as store:
        assert store.resolve("churn@production").id == new_a.id
        moves = [e["to_id"] for e in store.alias_history("model", "churn", "production")]
        assert moves == [base.id, new_a.id]  # the history is the remote's chain
        assert_alias_chains(store)
        every = store.alias_history("model", "churn", "production", include_refused=True)
        assert [e["to_id"] for e in every if e["remote_seq"] == 0] == [new_b.id]
    # the loser's next push does not retry the refused move
    code, doc, _ = mlops(b, "push")
    assert code == 0 and doc["conflicts"] == []
    with Store.open(a, create=False) as store:
        assert [e["to_id"] for e in store.alias_history("model", "churn", "production")] == [
            base.id,
            new_a.id,
        ]
    fsck_ok(a)
    fsck_ok(b)
