"""The gentle questionnaire: its questions in order, and the default choice lists seeded into the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Question:
    key: str
    title: str
    help: str
    kind: Literal["single", "multi", "text"]
    list_name: str | None = None
    max_choices: int | None = None
    max_length: int | None = None
    # The availability step also asks for the person's time zone (kept on users.timezone, not as an answer).
    asks_zone: bool = False


QUESTIONS: tuple[Question, ...] = (
    Question(
        "participation",
        "How would you like to take part?",
        "There is no wrong answer, and you can change it later. \u201cNot sure yet\u201d is welcome too.",
        "single",
        "participation",
    ),
    Question(
        "skills_grow",
        "Which soft skills would you like to grow?",
        "Pick up to five. Your mentor and you will practise them on a real piece of your work.",
        "multi",
        "skills",
        max_choices=5,
    ),
    Question(
        "skills_offer",
        "Which soft skills could you help someone else grow?",
        "Pick up to five, if you would like to mentor. Everyday strengths count.",
        "multi",
        "skills",
        max_choices=5,
    ),
    Question(
        "interests",
        "What are you interested in?",
        "Shared interests make a good start to a conversation. Pick up to eight.",
        "multi",
        "interests",
        max_choices=8,
    ),
    Question(
        "values",
        "Which values matter most to you at work?",
        "Pick up to three. People who share values tend to work well together.",
        "multi",
        "values",
        max_choices=3,
    ),
    Question(
        "experiences",
        "Which experiences have you had, or would like to talk about?",
        "Pick any that fit. Only matching uses them; nobody else sees this list.",
        "multi",
        "experiences",
        max_choices=6,
    ),
    Question(
        "perspective",
        "Who would you like to be matched with?",
        "Someone with a similar path, someone who sees things differently, or either.",
        "single",
        "perspective",
    ),
    Question(
        "time",
        "How much time could you give?",
        "A little is plenty. Many pairs meet for half an hour a month.",
        "single",
        "time",
        asks_zone=True,
    ),
    Question(
        "formats",
        "How would you like to meet?",
        "Pick any that suit you. Written and asynchronous mentoring is a full way to take part.",
        "multi",
        "formats",
    ),
    Question(
        "start",
        "How would you like to start?",
        "A written introduction before any call is a perfectly good beginning.",
        "single",
        "start",
    ),
    Question(
        "anything_else",
        "Anything else you would like us to know?",
        "Optional. For example a topic close to your heart, or something to avoid. It is saved as you type.",
        "text",
        max_length=1000,
    ),
)

QUESTION_BY_KEY = {question.key: question for question in QUESTIONS}

DEFAULT_CHOICES: dict[str, list[tuple[str, str]]] = {
    "participation": [
        ("mentee", "Be mentored"),
        ("mentor", "Mentor someone"),
        ("both", "Both"),
        ("not_sure", "Not sure yet"),
    ],
    "skills": [
        ("communication", "Communication"),
        ("clear_writing", "Clear, succinct writing"),
        ("assertiveness", "Assertiveness"),
        ("confidence", "Confidence"),
        ("decisiveness", "Decisiveness"),
        ("negotiation", "Negotiation"),
        ("delegation", "Delegation"),
        ("empathy_humour", "Empathy and humour"),
        ("embracing_change", "Embracing change"),
        ("feedback", "Giving and receiving feedback"),
        ("public_speaking", "Speaking to a group"),
        ("conflict", "Working through conflict"),
        ("stakeholders", "Working with stakeholders"),
        ("focus", "Managing time and focus"),
    ],
    "interests": [
        ("data", "Data and analytics"),
        ("design", "Design"),
        ("product", "Product"),
        ("engineering", "Engineering"),
        ("leadership", "Leading people"),
        ("customers", "Customers"),
        ("sales", "Sales"),
        ("finance", "Finance"),
        ("writing", "Writing"),
        ("sustainability", "Sustainability"),
        ("wellbeing", "Wellbeing"),
        ("teaching", "Learning and teaching"),
        ("community", "Community and volunteering"),
        ("arts", "Arts and music"),
        ("outdoors", "Sport and the outdoors"),
    ],
    "values": [
        ("curiosity", "Curiosity"),
        ("integrity", "Integrity"),
        ("kindness", "Kindness"),
        ("craft", "Craft and quality"),
        ("fairness", "Fairness"),
        ("growth", "Growth"),
        ("balance", "Balance"),
        ("courage", "Courage"),
        ("collaboration", "Collaboration"),
        ("impact", "Impact"),
        ("humility", "Humility"),
        ("independence", "Independence"),
    ],
    "experiences": [
        ("first_time_manager", "Becoming a first-time manager"),
        ("career_change", "Changing career"),
        ("returning_from_leave", "Returning from leave"),
        ("relocation", "Relocating to a new place"),
        ("new_to_company", "Being new to the company"),
        ("remote_work", "Working remotely"),
        ("parenting", "Balancing work and caring for family"),
        ("promotion", "Going for a promotion"),
        ("switching_teams", "Switching teams"),
        ("self_doubt", "Self-doubt and imposter feelings"),
        ("leading_without_authority", "Leading without authority"),
        ("burnout", "Recovering from burnout"),
    ],
    "perspective": [
        ("like_me", "Someone like me"),
        ("different", "Someone with a different perspective"),
        ("no_preference", "I don't mind"),
    ],
    "time": [
        ("30m", "30 minutes a month"),
        ("1h", "1 hour a month"),
        ("90m", "90 minutes a month"),
        ("2h", "2 hours a month"),
    ],
    "formats": [
        ("in_person", "In person"),
        ("video", "Video call"),
        ("walk", "A walk"),
        ("written", "Written and asynchronous"),
    ],
    "start": [
        ("written_intro", "A written introduction first"),
        ("short_call", "A short call to say hello"),
        ("no_preference", "No preference"),
    ],
}
