"""Per-task rule files: models, loader, importer from task collections, linter."""
from bot.rules.models import Campaign, CampaignRules, Rules, Target, Task, TaskRfc, path_matches

__all__ = ["Campaign", "CampaignRules", "Rules", "Target", "Task", "TaskRfc", "path_matches"]
