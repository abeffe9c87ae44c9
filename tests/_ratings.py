"""The README's signed-trust mapping (ratings.csv: positive ratings are gifts, negative ones flags), for the tests."""

RATINGS_MAPPING = (
    '[tables.gifts]\nfile = "ratings.csv"\nwhere = "rating > 0"\n'
    '[tables.gifts.columns]\nsender_id = "rater"\nreceiver_id = "ratee"\ncoins = "rating"\nsent_at = "time"\n'
    '[tables.flags]\nfile = "ratings.csv"\nwhere = "rating < 0"\n'
    '[tables.flags.columns]\nuser_id = "ratee"\nat = "time"\n'
    '[tables.flags.constants]\nkind = "negative_rating"\n'
)
