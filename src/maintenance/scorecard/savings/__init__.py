"""Savings ledgers: refurbish-and-reuse (修旧利废), import-spares localisation and tendering with
price comparison, from the orders' refurbished and localised cost lines plus manual entries."""
