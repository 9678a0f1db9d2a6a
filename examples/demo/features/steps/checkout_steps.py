"""Steps for the demo's checkout feature: a basket priced in memory."""

from decimal import Decimal

from behave import given, then, when

# Ten or more of one item: 10 % off that line.
VOLUME = 10
VOLUME_DISCOUNT = Decimal("0.90")


@given("a basket")
def step_basket(context):
    context.basket = []


@when('I add {count:d} "{item}" at {price}')
def step_add(context, count, item, price):
    context.basket.append((item, count, Decimal(price)))


@then("the basket total is {total}")
def step_total(context, total):
    got = sum(
        (count * price * (VOLUME_DISCOUNT if count >= VOLUME else 1) for _, count, price in context.basket),
        Decimal("0"),
    )
    assert got == Decimal(total), f"expected {total}, got {got}"
