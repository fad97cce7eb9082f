"""Asset stocktakes (盘点): a workshop's count of its assets against the registry, surplus found on
site, the signed-off report."""
