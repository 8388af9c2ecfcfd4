"""All models, imported here so Alembic's autogenerate sees every table."""

from portal.models.accounts import Role, Team, User
from portal.models.celebrations import (
    Celebration,
    CelebrationAudience,
    CelebrationKind,
    CelebrationReaction,
    CelebrationReport,
    CelebrationStatus,
)
from portal.models.goals import Goal, GoalComment, GoalSkill, GoalStatus, Milestone, Objective, ObjectiveLevel
from portal.models.journals import ActionItem, Meeting, MeetingGoal, MeetingStatus, Reflection
from portal.models.matches import (
    MatchingRun,
    MentorMark,
    MentorRequest,
    Pairing,
    PairingEnd,
    PairingStatus,
    ProposedPair,
    RequestStatus,
    RunStatus,
)
from portal.models.notifications import Notification, OutboxEmail
from portal.models.nudges import (
    InterestEvent,
    InterestKind,
    Nudge,
    NudgeAnswer,
    NudgePreference,
    NudgeRole,
    RosterEntry,
    RosterImport,
)
from portal.models.profiles import Choice, Draft, ProfileAnswer, ProfileStep
from portal.models.programs import Cycle, Enrolment, EnrolmentRole
from portal.models.reports import Retrospective, RetrospectiveSkill, SkillBaseline, SponsorMessage

__all__ = [
    "Celebration",
    "CelebrationAudience",
    "CelebrationKind",
    "CelebrationReaction",
    "CelebrationReport",
    "CelebrationStatus",
    "ActionItem",
    "Goal",
    "GoalComment",
    "GoalSkill",
    "GoalStatus",
    "Meeting",
    "MeetingGoal",
    "MeetingStatus",
    "Milestone",
    "Objective",
    "ObjectiveLevel",
    "Reflection",
    "Choice",
    "Cycle",
    "Enrolment",
    "EnrolmentRole",
    "MatchingRun",
    "MentorMark",
    "MentorRequest",
    "Pairing",
    "PairingEnd",
    "PairingStatus",
    "ProposedPair",
    "RequestStatus",
    "RunStatus",
    "Draft",
    "Notification",
    "InterestEvent",
    "InterestKind",
    "Nudge",
    "NudgeAnswer",
    "NudgePreference",
    "NudgeRole",
    "RosterEntry",
    "RosterImport",
    "OutboxEmail",
    "ProfileAnswer",
    "ProfileStep",
    "Retrospective",
    "RetrospectiveSkill",
    "Role",
    "SkillBaseline",
    "SponsorMessage",
    "Team",
    "User",
]
