Feature: Login

  Scenario: Good password
    Given an empty cart
