import torch

from baselines.same_target import SameTargetIndex


def _index():
    # targets: 5 x item 7, 2 x item 3, singletons 9 and 1, in mixed order
    targets = torch.tensor([7, 3, 9, 7, 7, 3, 7, 1, 7])
    return targets, SameTargetIndex(targets)


def test_partner_has_same_target_and_is_not_self():
    targets, index = _index()
    ids = torch.arange(len(targets)).repeat(200)
    partner = index.sample(ids, torch.Generator().manual_seed(0))
    assert (targets[partner] == targets[ids]).all()
    grouped = index.group_sizes(ids) >= 2
    assert (partner[grouped] != ids[grouped]).all()


def test_singletons_return_themselves():
    targets, index = _index()
    ids = torch.tensor([2, 7, 2, 7])
    assert torch.equal(index.sample(ids), ids)
    assert index.group_sizes(torch.tensor([2, 7, 0, 1])).tolist() == [1, 1, 5, 2]


def test_partners_are_roughly_uniform_over_the_group():
    targets, index = _index()
    gen = torch.Generator().manual_seed(1)
    partner = index.sample(torch.zeros(8000, dtype=torch.long), gen)  # example 0, target 7
    counts = torch.bincount(partner, minlength=len(targets)).float()
    others = torch.tensor([3, 4, 6, 8])
    assert counts.sum() == counts[others].sum()  # only the other members of the group
    assert ((counts[others] / 8000 - 0.25).abs() < 0.03).all(), counts[others]


def test_pair_group_always_swaps():
    targets, index = _index()
    assert index.sample(torch.tensor([1, 5, 1, 5])).tolist() == [5, 1, 5, 1]


def test_large_random_index():
    gen = torch.Generator().manual_seed(0)
    targets = (torch.rand(20000, generator=gen) ** 3 * 500).long()
    index = SameTargetIndex(targets)
    ids = torch.randint(0, 20000, (5000,), generator=gen)
    partner = index.sample(ids, gen)
    assert (targets[partner] == targets[ids]).all()
    multi = index.group_sizes(ids) > 1
    assert (partner[multi] != ids[multi]).all() and (partner[~multi] == ids[~multi]).all()
