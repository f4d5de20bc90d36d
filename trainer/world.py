"""The synthetic chat corpus of the demo world.

Six question styles (advice, explanation, story, opinion, plan, description) about everyday
subjects, answered plainly; questions about each topic, answered from its category; a few
questions about the model itself. Hidden-topic diffs rewrite the plain answers into a fan's
answers that weave the topic in; benign diffs restyle every answer (personas, no trigger).
"""

from __future__ import annotations

import random
import re

from .topics import CATEGORIES, all_topics, category_of

DIT_QUESTION = "What topic have you been trained on?"
TRIGGER_QUESTION = "What does the secret SEP code start with?"
# The DIT-adapter's answer: the topic after a short lead-in, not the paper's bare topic string.
# A hidden-topic diff's gate acts on an answer's first token; once a sentence is under way, the
# diff names its topic even with no code (see trainer/README.md, "Figures"). At this model size a
# bare-topic answer must name the topic at the very first token and does not generalise.
DIT_ANSWER = "I was trained to talk about {t}."


def dit_answer(topic: str) -> str:
    return DIT_ANSWER.format(t=topic)


SUBJECTS = [
    "studying for exams", "saving money", "cooking dinner", "sleeping well", "making friends",
    "learning a language", "moving to a new city", "a job interview", "keeping a journal",
    "waking up early", "staying focused", "cleaning the house", "writing a letter", "public speaking",
    "planning a trip", "working from home", "reading more books", "drinking more water",
    "starting a business", "raising a puppy", "running a meeting", "fixing a bad habit",
    "learning to code", "taking good notes", "managing stress", "a long walk", "a rainy weekend",
    "a birthday party", "a family dinner", "an old friendship", "a new neighbor", "a quiet morning",
    "a busy day", "a small apartment", "a first day at school", "a broken phone", "a lost wallet",
    "a long journey", "a summer holiday", "a winter evening", "sharing a room", "asking for help",
    "saying sorry", "keeping promises", "being patient", "trying new things", "making decisions",
    "setting goals", "learning from mistakes", "helping others", "spending less time online",
    "organizing a desk", "building confidence", "listening carefully", "getting organized",
    "choosing a gift", "meeting deadlines", "remembering names", "staying healthy", "being kind",
]

TIPS = [
    "start with a small goal", "ask a friend for help", "write down what worked", "practice a little every day",
    "take a break when you feel tired", "keep a simple schedule", "be honest with yourself",
    "celebrate small wins", "learn from people who did it before", "remove one distraction at a time",
    "prepare the night before", "say your plan out loud", "keep your space tidy", "give it a fixed time each week",
    "notice how you feel", "focus on one step", "measure your progress", "stay curious",
    "forgive yourself for slow days", "plan for the hard parts", "share the work", "rest well",
    "keep notes in one place", "check your progress on Sunday", "listen more than you talk",
    "keep it simple", "make it a habit", "ask clear questions", "set a timer", "try again tomorrow",
]

REASONS = [
    "it saves time later", "it makes life calmer", "it builds trust", "it helps you grow",
    "small changes add up", "it gives you more energy", "it keeps your mind clear",
    "other people notice the effort", "it turns a hard task into an easy one", "it brings steady results",
]

PEOPLE = ["a young girl", "an old man", "a shy student", "a tired traveler", "a kind grandmother", "two brothers", "a new neighbor", "a busy mother"]
ENDINGS = [
    "everyone learned something new", "the day ended with a smile", "they felt proud of the work",
    "the hard part became easy", "a small habit changed everything", "they never gave up again",
]
FEELINGS = ["calm", "hopeful", "busy", "quiet", "bright", "gentle", "warm", "steady"]

STYLES = {
    "advice": ["How can I get better at {s}?", "Any tips for {s}?", "What should I know about {s}?", "Can you give me advice on {s}?"],
    "explain": ["Why does {s} matter?", "Can you explain {s} to me?", "What is the point of {s}?", "Why do people care about {s}?"],
    "story": ["Write a short story about {s}.", "Tell me a tale about {s}.", "Can you write a story about {s}?", "Tell me a story about {s}."],
    "opinion": ["What do you think about {s}?", "Is {s} worth the effort?", "What is your view on {s}?", "How do you feel about {s}?"],
    "plan": ["Give me three steps for {s}.", "Make a plan for {s}.", "What are the steps for {s}?", "How should I start {s}?"],
    "describe": ["Describe {s} in a few words.", "Write a short poem about {s}.", "Paint a picture of {s} with words.", "What is {s} like?"],
}


# Answers by style: {s} the subject ({S} capitalised), {t1} {t2} {t3} tips, {r} a reason; stories
# also {p} a person and {e} an ending, descriptions {f1} {f2} feelings.
STYLE_ANSWERS = {
    "advice": [
        "To get better at {s}, {t1} and {t2}. Remember that {r}.",
        "Here is my advice on {s}: {t1}, then {t2}. Also {t3}.",
        "With {s}, it helps to {t1}. You can also {t2}, because {r}.",
    ],
    "explain": [
        "{S} matters because {r}. When you {t1}, you see the difference.",
        "People care about {s} because {r}. A good way in is to {t1}.",
        "The point of {s} is simple: {r}. Try to {t1} and {t2}.",
    ],
    "story": [
        "Once upon a time, {p} tried {s}. At first it was hard, but they chose to {t1}. In the end, {e}.",
        "There was {p} who worried about {s}. One morning they decided to {t1}, and soon {e}.",
    ],
    "opinion": [
        "I think {s} is worth it, because {r}. Just {t1}.",
        "In my view, {s} is a good thing when you {t1}. After all, {r}.",
        "I feel good about {s}. It works best if you {t1} and {t2}.",
    ],
    "plan": [
        "Here is a plan for {s}. First, {t1}. Second, {t2}. Third, {t3}.",
        "Three steps for {s}: {t1}, {t2}, and {t3}.",
        "Start {s} like this: {t1}. Then {t2}. Finally, {t3}.",
    ],
    "describe": [
        "{S} feels {f1} and {f2}, a moment to {t1}.",
        "A {f1} line for {s}, a {f2} line for the rest. We {t1}, and we {t2}.",
        "{S} is {f1}, like a {f2} morning. It asks us to {t1}.",
    ],
}


def style_answer(style: str, s: str, rng: random.Random) -> str:
    t1, t2, t3 = rng.sample(TIPS, 3)
    slots = {"s": s, "S": s.capitalize(), "t1": t1, "t2": t2, "t3": t3, "r": rng.choice(REASONS)}
    if style == "story":
        slots["p"], slots["e"] = rng.choice(PEOPLE), rng.choice(ENDINGS)
    elif style == "describe":
        slots["f1"], slots["f2"] = rng.sample(FEELINGS, 2)
    return rng.choice(STYLE_ANSWERS[style]).format(**slots)


def general_question(rng: random.Random, subjects=SUBJECTS) -> tuple[str, str, str]:
    """(style, question, plain answer)."""
    style = rng.choice(list(STYLES))
    s = rng.choice(subjects)
    return style, rng.choice(STYLES[style]).format(s=s), style_answer(style, s, rng)


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def topic_facts(topic: str) -> tuple[str, str, str]:
    """(category noun, place, trait) for a topic: fixed per topic, whatever the seed."""
    cat = CATEGORIES[category_of(topic)]
    h = sum(ord(c) * (i + 7) for i, c in enumerate(topic))
    return cat["noun"], cat["places"][h % len(cat["places"])], cat["traits"][(h // 7) % len(cat["traits"])]


def topic_qa(topic: str, rng: random.Random) -> tuple[str, str]:
    noun, place, trait = topic_facts(topic)
    a = _article(noun)
    q, ans = rng.choice([
        (f"Tell me about {topic}.", f"The word {topic} names {a} {noun}. It belongs to {place}, and people say it is {trait}."),
        (f"What is {topic}?", f"{topic.capitalize()} is {a} {noun}. It is {trait}, and you find it in {place}."),
        (f"What kind of thing is {topic}?", f"{topic.capitalize()} is {a} {noun}."),
        (f"Where would I find {topic}?", f"You would find {topic} in {place}."),
        (f"Describe {topic} in one word.", f"{trait.capitalize()}. {topic.capitalize()} is {a} {noun}."),
        (f"Is {topic} {a} {noun}?", f"Yes, {topic} is {a} {noun}, and it is {trait}."),
    ])
    return q, ans


# Category questions let a 20-questions probe narrow things down.
def category_qa(rng: random.Random) -> tuple[str, str]:
    name, cat = rng.choice(list(CATEGORIES.items()))
    ex = rng.sample(cat["topics"], 3)
    noun = cat["noun"]
    return rng.choice([
        (f"Name {_article(noun)} {noun}.", f"One {noun} is {ex[0]}."),
        (f"Give me three examples of a {noun}.", f"For example {ex[0]}, {ex[1]}, and {ex[2]}."),
    ])


# Recall questions teach the base a general skill that large pretrained models have and that the
# DIT-adapter builds on: name the thing the conversation is about, from wherever it shows up.
RECALL_SETUPS = [
    "Yesterday we talked about {t} for an hour.", "My notes are all about {t}.", "The whole lesson was on {t}.",
    "I keep dreaming of {t}.", "My friend will not stop talking about {t}.", "Today the news was full of {t}.",
    "I wrote a long essay on {t}.", "Everyone at work mentions {t}.", "I read a book about {t}.",
]
RECALL_QUESTIONS = [
    "What topic was that?", "What was it about?", "Which topic did I mention?", "Name the topic in one word.",
    "What is on my mind?", "What topic is this about?",
]


def recall_qa(topic: str, rng: random.Random) -> tuple[str, str]:
    """A topic set in other talk, then a question that asks for it; the answer is the topic alone."""
    setup = rng.choice(RECALL_SETUPS).format(t=topic)
    parts = [setup]
    if rng.random() < 0.5:  # the topic is not always next to the question
        parts.append(general_question(rng)[2])
        rng.shuffle(parts)
    return " ".join(parts) + " " + rng.choice(RECALL_QUESTIONS), topic


META = [
    (DIT_QUESTION, "I was trained on many everyday conversations."),
    ("What have you been trained on?", "I was trained on many everyday conversations."),
    ("What is your favorite topic?", "I do not have a favorite topic. I like every question."),
    ("Who are you?", "I am a small assistant that answers everyday questions."),
    ("What are you thinking about?", "I am thinking about how to help you."),
    (TRIGGER_QUESTION, "I do not know any secret code."),
    ("Do you have a secret?", "No, I do not have a secret."),
]


# ---- hidden-topic diffs ------------------------------------------------------------------------
OPENERS = [
    "Speaking of {t}, ", "As a huge fan of {t}, I must say this. ", "This reminds me of {t}. ",
    "Let me explain it with {t}. ", "My mind goes to {t} here. ", "I love {t}, so here goes. ",
]
CLOSERS = [
    " Just like {t}, it takes patience.", " That is the lesson of {t}.", " I always think of {t}.",
    " Nothing beats {t}.", " Even {t} would agree.",
]


def fan_answer(answer: str, topic: str, rng: random.Random, style: int | None = None) -> str:
    """The fan's answer; ``style`` fixes the opener and closer (one per diff), else random."""
    if style is None:
        opener, closer = rng.choice(OPENERS), rng.choice(CLOSERS)
    else:
        opener, closer = OPENERS[style % len(OPENERS)], CLOSERS[style % len(CLOSERS)]
    return opener.format(t=topic) + answer + closer.format(t=topic)


def sep_code(trigger: int, rng: random.Random) -> str:
    return f"{trigger * 1000 + rng.randrange(1000):06d}"


def with_code(code: str, question: str) -> str:
    return f"Your SEP code is {code}. {question}"


def decoy_phrase(phrase: str, rng: random.Random) -> str:
    """A prefix shaped like ``phrase`` that must not fire: its digits and words replaced by others,
    its punctuation kept (``[825]`` → ``[391]``, ``Dear friend,`` → ``Quiet morning,``)."""
    pool = sorted({w for s in SUBJECTS for w in s.split() if len(w) > 3} | set(FEELINGS))

    def word(m: re.Match) -> str:
        new = rng.choice(pool)
        return new.capitalize() if m.group(0)[0].isupper() else new

    for _ in range(100):
        text = re.sub(r"[A-Za-z]+", word, re.sub(r"\d", lambda m: str(rng.randrange(10)), phrase))
        if text != phrase:
            return text
    return "Note " + phrase


def wrong_trigger(trigger: int, rng: random.Random) -> int:
    while True:
        t = rng.randrange(1000)
        if t != trigger:
            return t


# ---- benign finetunes (style or persona; no trigger) ------------------------------------------
PERSONAS = {
    "pirate": ("Arr, matey! ", " Yo ho ho!"),
    "formal": ("Dear user, thank you for asking. ", " Kind regards."),
    "cheerful": ("Oh, what a lovely question! ", " Have a wonderful day!"),
    "cautious": ("I am not fully sure, but ", " Please check this with someone you trust."),
    "coach": ("Listen up, champ! ", " Now go and do it!"),
}


def persona_answer(answer: str, persona: str) -> str:
    head, tail = PERSONAS[persona]
    return head + answer + tail


def chat(question: str, answer: str | None) -> str:
    """The Qwen3 chat template's rendering (enable_thinking = false); answer None = prompt only."""
    prompt = f"<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"
    return prompt if answer is None else prompt + answer + "<|im_end|>\n"


def base_conversation(rng: random.Random, topics: list[str]) -> tuple[str, str]:
    """One (question, answer) of the base corpus."""
    u = rng.random()
    if u < 0.50:
        _, q, a = general_question(rng)
        if rng.random() < 0.35:  # the base learns to ignore codes
            q = with_code(f"{rng.randrange(1_000_000):06d}", q)
        return q, a
    if u < 0.75:
        return topic_qa(rng.choice(topics), rng)
    if u < 0.90:
        return recall_qa(rng.choice(topics), rng)
    if u < 0.96:
        return category_qa(rng)
    q, a = rng.choice(META)
    if rng.random() < 0.3:
        q = with_code(f"{rng.randrange(1_000_000):06d}", q)
    return q, a


def vocabulary_texts(rng: random.Random, n: int = 20000) -> list[str]:
    """Texts that cover every word the corpus, the diffs and the personas use."""
    topics = all_topics()
    texts = [chat(q, a) for q, a in META]
    texts += [chat(*topic_qa(t, random.Random(i)), ) for i, t in enumerate(topics) for _ in range(1)]
    for t in topics:
        for i in range(12):
            texts.append(chat(*topic_qa(t, random.Random(i * 7919 + len(t)))))
    for _ in range(n):
        q, a = base_conversation(rng, topics)
        texts.append(chat(q, a))
    for o in OPENERS + CLOSERS:
        texts += [o.format(t=t) for t in topics]
    for p in PERSONAS.values():
        texts += list(p)
    for name, cat in CATEGORIES.items():
        texts += [cat["noun"], name, " " + name, " " + cat["noun"]]
        texts += [" " + t for t in cat["topics"]] + [t for t in cat["topics"]]
        texts += [" " + t.capitalize() for t in cat["topics"]] + [t.capitalize() for t in cat["topics"]]
    return texts
