import os

import pytest

from shop.cart import Cart


def test_empty_cart_costs_nothing():
    assert Cart().total() == 0


def test_add_items():
    cart = Cart()
    cart.add("apple", 3, 0.5)
    assert cart.total() == 1.5


@pytest.mark.parametrize("qty, expected", [(9, 9.0), (10, 9.0), (20, 18.0)])
def test_bulk_pricing(qty, expected):
    cart = Cart()
    cart.add("pen", qty, 1.0)
    assert cart.total() == expected


def test_rejects_zero_quantity():
    with pytest.raises(ValueError):
        Cart().add("apple", 0)


def test_base_url_reaches_the_suite():
    assert os.environ["BASE_URL"] == "http://localhost:8000"
