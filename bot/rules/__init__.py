"""Per-task rule files: models, loader, importer from task collections, linter."""

from bot.rules.loader import Problem, RulesError, load_rules, read_rules
from bot.rules.models import (
    Campaign,
    CampaignRules,
    Rules,
    Target,
    Task,
    TaskRfc,
    TaskStatus,
    path_matches,
)

__all__ = [
    "Campaign",
    "CampaignRules",
    "Problem",
    "Rules",
    "RulesError",
    "Target",
    "Task",
    "TaskRfc",
    "TaskStatus",
    "load_rules",
    "path_matches",
    "read_rules",
]
