"""A shopping cart with bulk pricing."""

from dataclasses import dataclass, field


@dataclass
class Cart:
    items: dict = field(default_factory=dict)

    def add(self, sku: str, qty: int = 1, unit_price: float = 1.0) -> None:
        if qty <= 0:
            raise ValueError("quantity must be positive")
        count, _ = self.items.get(sku, (0, unit_price))
        self.items[sku] = (count + qty, unit_price)

    def total(self) -> float:
        total = 0.0
        for count, price in self.items.values():
            # Ten or more of one item: 10 % off that line.
            line = count * price
            total += line * 0.9 if count >= 10 else line
        return round(total, 2)
