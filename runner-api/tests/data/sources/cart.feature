Feature: Shopping cart
  Carts hold items.

  Scenario: Add one item
    Given an empty cart
    When I add 1 "apple"
    Then the cart holds 1 items

  Scenario: Broken total
    Given an empty cart
    When I add 2 "pear"
    Then the cart holds 3 items

  Scenario Outline: Add <count> of <fruit>
    Given an empty cart
    When I add <count> "<fruit>"
    Then the cart holds <count> items

    Examples: Fruits
      | count | fruit  |
      | 1     | kiwi   |
      | 2     | mangö  |

  @skip
  Scenario: Skipped one
    Given an empty cart

  Scenario: Undefined step
    Given an empty cart
    When I do something nobody wrote
