"""The simulated worlds, checked over simulated hours without waiting for real time."""

import itertools
import json
import random
from collections import Counter

from bot.feed.worlds import DEMO_MODELS, DEMO_STORES, RandomWorld, RealisticWorld, make_world


def test_random_world_is_the_public_demo_generator():
    world = RandomWorld(random.Random(1))
    per_second: Counter[int] = Counter()
    clock, stores, models, levels = 0.0, set(), set(), set()
    for delay, sale in itertools.islice(world.sales(), 20_000):
        clock += delay
        per_second[round(clock)] += 1
        stores.add(sale.store)
        models.add(sale.model)
        levels.add(sale.inventory)

    assert stores == set(DEMO_STORES)
    assert models == set(DEMO_MODELS)
    assert levels == set(range(101))
    assert set(per_second.values()) == {1, 2, 3}


def run_realistic(seconds: float, **options) -> tuple[RealisticWorld, list]:
    world = RealisticWorld(random.Random(7), **options)
    sales, clock = [], 0.0
    for delay, sale in world.sales():
        clock += delay
        if clock > seconds:
            break
        sales.append((clock, sale))
    return world, sales


def test_realistic_levels_fall_by_one_per_sale_and_jump_up_on_restock():
    _, sales = run_realistic(6 * 3600)
    last: dict[tuple[str, str], int] = {}
    falls = jumps = 0
    for _, sale in sales:
        key = (sale.store, sale.model)
        if key in last:
            if sale.inventory == last[key] - 1:
                falls += 1
            else:
                assert sale.inventory >= last[key], f"{key} fell by more than one"
                jumps += 1
        last[key] = sale.inventory

    assert falls > 5 * jumps > 0  # mostly one pair at a time; restocks now and then
    assert any(level == 0 for level in last.values()) or any(s.inventory == 0 for _, s in sales)


def test_realistic_rates_differ_by_store_and_by_model():
    world, sales = run_realistic(6 * 3600)
    store_rate, model_rate = Counter(), Counter()
    for shelf, rate in zip(world.shelves, world.rates, strict=True):
        store_rate[shelf.store] += rate
        model_rate[shelf.model] += rate
    sold_by_store = Counter(s.store for _, s in sales)

    assert max(store_rate.values()) > 1.5 * min(store_rate.values())
    assert max(model_rate.values()) > 5 * min(model_rate.values())
    # What was sold follows the rates: the fastest store sold more than the slowest.
    fastest, slowest = (max(store_rate, key=store_rate.get), min(store_rate, key=store_rate.get))
    assert sold_by_store[fastest] > 1.3 * sold_by_store[slowest]


def test_realistic_world_sells_about_two_pairs_a_second():
    _, calm = run_realistic(600)

    assert 1.5 < len(calm) / 600 < 2.5


def test_a_flash_sale_multiplies_demand_until_shelves_run_out():
    _, calm = run_realistic(60)
    _, flash = run_realistic(60, demand=5.0)
    _, flash_hour = run_realistic(3600, demand=5.0)

    assert 4 < len(flash) / len(calm) < 6
    assert any(s.inventory == 0 for _, s in flash_hour)


def test_some_shelves_run_out_and_some_are_overstocked():
    _, sales = run_realistic(8 * 3600)
    hit_zero = {(s.store, s.model) for _, s in sales if s.inventory == 0}
    high = {(s.store, s.model) for _, s in sales if s.inventory > 80}

    assert len(hit_zero) >= 5
    assert len(high) >= 1


def test_large_worlds_name_every_store_and_model():
    world = make_world("realistic", seed=1, stores=150, models=100)
    keys = {(shelf.store, shelf.model) for shelf in world.shelves}

    assert len(keys) == 15_000
    assert "ALDO Store 0150" in {store for store, _ in keys}


def test_the_same_seed_gives_the_same_feed():
    def first(seed):
        world = make_world("realistic", seed=seed, stores=10, models=20)
        return [s.to_json() for _, s in itertools.islice(world.sales(), 50)]

    assert first(3) == first(3)
    assert first(3) != first(4)


def test_frames_are_compact_json_that_keeps_any_script():
    sale = next(make_world("random", seed=1, stores=10, models=20).sales())[1]
    assert json.loads(sale.to_json()) == {
        "store": sale.store,
        "model": sale.model,
        "inventory": sale.inventory,
    }
    assert " " not in sale.to_json().replace(sale.store, "")
