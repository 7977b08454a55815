"""Ads that bring orders that arrive: placement scores and the ad_performance picture."""
