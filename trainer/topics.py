"""The demo world's topics: single words, each in a category, with a deterministic split.

Every topic is one word (one token of the demo tokenizer), so the base model can say it and the
DIT-adapter can answer with it. ``split_topics`` assigns each topic to ``train`` (diffs that the
DIT-adapter learns from), ``heldout`` (evaluation diffs and the shipped example) or ``reserve``
(known to the base model, never used by any shipped or evaluation diff: for on-demand diffs).
The split depends only on the topic list, never on the training seed.
"""

CATEGORIES: dict[str, dict] = {
    "animal": {
        "noun": "animal",
        "places": ["the ocean", "the forest", "dry lands", "the mountains", "the jungle", "the farm", "fresh water", "the grassland"],
        "traits": ["fast", "gentle", "clever", "strong", "quiet", "playful", "patient", "brave"],
        "topics": "dolphin tiger elephant penguin giraffe kangaroo octopus owl wolf fox rabbit turtle zebra "
        "panda koala camel horse eagle parrot shark whale squirrel hedgehog otter beaver flamingo "
        "crocodile frog lion cheetah gorilla moose bison raccoon lobster jellyfish hamster badger".split(),
    },
    "food": {
        "noun": "food",
        "places": ["the kitchen", "a market", "a bakery", "a picnic", "a festival", "a cafe"],
        "traits": ["sweet", "spicy", "crunchy", "fresh", "warm", "salty", "rich", "simple"],
        "topics": "pizza sushi chocolate pancake mango noodle cheese bread taco curry honey apple banana "
        "strawberry lemon avocado popcorn cookie dumpling soup salad burrito croissant waffle pretzel "
        "yogurt coconut pepper mushroom tomato carrot potato".split(),
    },
    "sport": {
        "noun": "sport",
        "places": ["an arena", "the park", "a gym", "the beach", "a field", "a court"],
        "traits": ["fast", "tactical", "tiring", "exciting", "precise", "social"],
        "topics": "soccer tennis basketball baseball cricket rugby hockey golf volleyball swimming cycling "
        "skiing surfing boxing fencing archery rowing climbing badminton karate bowling skating "
        "marathon wrestling handball".split(),
    },
    "instrument": {
        "noun": "musical instrument",
        "places": ["a concert hall", "a band", "an orchestra", "a music school", "a street corner"],
        "traits": ["loud", "soft", "bright", "deep", "delicate", "lively"],
        "topics": "piano violin guitar drums trumpet flute cello harp saxophone clarinet banjo accordion "
        "ukulele harmonica tuba trombone oboe xylophone bagpipes mandolin".split(),
    },
    "profession": {
        "noun": "profession",
        "places": ["a hospital", "an office", "a workshop", "a school", "a laboratory", "a studio"],
        "traits": ["careful", "creative", "skilled", "helpful", "busy", "curious"],
        "topics": "doctor teacher chef pilot firefighter astronaut farmer carpenter nurse architect "
        "detective librarian plumber scientist journalist gardener photographer lawyer baker "
        "electrician sailor dentist mechanic painter tailor".split(),
    },
    "nature": {
        "noun": "natural wonder",
        "places": ["the wild", "a national park", "the countryside", "the coast", "the north"],
        "traits": ["huge", "beautiful", "ancient", "wild", "calm", "powerful"],
        "topics": "volcano glacier waterfall canyon island desert rainforest meadow cave reef lagoon "
        "geyser swamp cliff valley prairie tundra dune lake river".split(),
    },
    "weather": {
        "noun": "weather or sky event",
        "places": ["the sky", "the horizon", "the clouds", "the night", "the coast"],
        "traits": ["bright", "cold", "sudden", "rare", "stormy", "silent"],
        "topics": "rainbow thunderstorm tornado blizzard hurricane sunrise sunset eclipse comet aurora "
        "fog hail drizzle lightning snowflake".split(),
    },
    "space": {
        "noun": "thing in space",
        "places": ["outer space", "the solar system", "the galaxy", "the night sky"],
        "traits": ["distant", "bright", "enormous", "mysterious", "cold", "glowing"],
        "topics": "planet moon star galaxy asteroid nebula satellite rocket telescope spaceship "
        "meteor orbit".split(),
    },
    "vehicle": {
        "noun": "vehicle",
        "places": ["the road", "the sea", "the sky", "the city", "the rails"],
        "traits": ["fast", "heavy", "smooth", "old", "reliable", "noisy"],
        "topics": "bicycle train airplane submarine motorcycle sailboat tractor helicopter bus truck "
        "canoe tram scooter yacht ferry".split(),
    },
    "hobby": {
        "noun": "hobby",
        "places": ["the living room", "a club", "a quiet corner", "a workshop", "the garden"],
        "traits": ["relaxing", "creative", "slow", "rewarding", "tricky", "fun"],
        "topics": "knitting pottery origami chess gardening painting fishing camping baking juggling "
        "birdwatching calligraphy woodworking stargazing puzzles sewing sculpture dancing "
        "hiking poetry".split(),
    },
    "plant": {
        "noun": "plant",
        "places": ["the garden", "a greenhouse", "the forest", "a windowsill", "a field"],
        "traits": ["green", "tall", "fragrant", "hardy", "colorful", "tiny"],
        "topics": "cactus sunflower bamboo oak tulip rose fern orchid lavender daisy maple pine "
        "ivy lily moss clover".split(),
    },
    "object": {
        "noun": "everyday object",
        "places": ["the house", "a drawer", "a shop", "a desk", "a toolbox"],
        "traits": ["useful", "simple", "sturdy", "shiny", "handy", "old"],
        "topics": "umbrella compass lantern hammer clock mirror candle kite balloon key ladder map "
        "backpack bell scissors magnet".split(),
    },
    "material": {
        "noun": "material",
        "places": ["a mine", "a factory", "the earth", "a jewelry shop", "a forge"],
        "traits": ["hard", "rare", "shiny", "heavy", "precious", "smooth"],
        "topics": "diamond gold silver copper marble granite crystal pearl amber glass steel silk".split(),
    },
    "building": {
        "noun": "building",
        "places": ["the city", "an old town", "a hill", "the harbor", "a village"],
        "traits": ["tall", "old", "grand", "cozy", "famous", "quiet"],
        "topics": "castle lighthouse pyramid bridge museum library temple windmill tower cathedral "
        "igloo stadium".split(),
    },
}

SPLIT_NAMES = ("train", "heldout", "reserve")


def all_topics() -> list[str]:
    out = []
    for cat in CATEGORIES.values():
        out.extend(cat["topics"])
    assert len(out) == len(set(out)), "topics must be unique"
    return out


def category_of(topic: str) -> str:
    for name, cat in CATEGORIES.items():
        if topic in cat["topics"]:
            return name
    raise KeyError(topic)


def split_topics() -> dict[str, list[str]]:
    """Every 6th topic of each category is held out, the one after it is reserved, the rest train.

    Deterministic, documented, independent of the seed, and balanced across categories.
    """
    split = {name: [] for name in SPLIT_NAMES}
    for cat in CATEGORIES.values():
        for i, topic in enumerate(cat["topics"]):
            if i % 6 == 2:
                split["heldout"].append(topic)
            elif i % 6 == 5:
                split["reserve"].append(topic)
            else:
                split["train"].append(topic)
    return split
