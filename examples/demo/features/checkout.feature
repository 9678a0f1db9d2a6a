Feature: Checkout

  Background:
    Given a basket

  Scenario: An empty basket costs nothing
    Then the basket total is 0.00

  Scenario: Items add up
    When I add 2 "apple" at 0.50
    And I add 1 "bread" at 2.25
    Then the basket total is 3.25

  Scenario Outline: Volume discount
    When I add <count> "tea" at 4.00
    Then the basket total is <total>

    Examples:
      | count | total |
      | 1     | 4.00  |
      | 10    | 36.00 |
