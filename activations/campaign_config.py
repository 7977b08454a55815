"""Campaign files: one YAML file per campaign in ``activations/campaigns/``, validated.

The growth team edits these files; nothing else changes to add, change or switch
off a campaign. The format is documented in ``activations/campaigns/README.md``.
:func:`load_campaigns` validates every file and raises one
:class:`CampaignFileError` naming each bad file and field, so a typo never
reaches a customer and never hides the other mistakes. :func:`load_campaign_files`
returns the valid campaigns and the problems per bad file instead, for the code
location: one bad file disables that campaign, not the others.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from activations.rules import (
    DEFAULT_TIMEZONE,
    HOLDOUT,
    Category,
    FrequencyCap,
    QuietHours,
    SendingPolicy,
    VariantSplit,
)
from common.segments import OPEN_ORDER_STATUSES

CAMPAIGNS_DIR = Path(__file__).resolve().parent / "campaigns"
CAMPAIGN_ID = re.compile(r"^[a-z][a-z0-9_]{1,62}$")

# The columns an audience row offers to template variables (activations.audience builds them).
AUDIENCE_COLUMNS = (
    "customer_phone",
    "customer_name",
    "first_name",
    "city",
    "segment_since",
    "order_ref",
    "order_number",
    "order_total",
    "currency",
    "carrier",
    "tracking_number",
)
# Order states a campaign may target: the open ones (the segments' list) and delivered.
ORDER_STATUSES = (*OPEN_ORDER_STATUSES, "delivered")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


class CampaignFileError(ValueError):
    """One or more campaign files are invalid; the message names each file and field."""


def _variable(value: object) -> object:
    return {"column": value} if isinstance(value, str) else value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variable(_Spec):
    """One template body variable ``{{n}}``: a warehouse column, or a format of columns."""

    column: str | None = None
    format: str | None = None
    default: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Variable:
        if (self.column is None) == (self.format is None):
            raise ValueError("give exactly one of 'column' or 'format'")
        for name in self.columns():
            if name not in AUDIENCE_COLUMNS:
                raise ValueError(
                    f"unknown column {name!r} (available: {', '.join(AUDIENCE_COLUMNS)})"
                )
        return self

    def columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        return [f for _, f, _, _ in string.Formatter().parse(self.format or "") if f]

    def render(self, row: dict[str, object]) -> str | None:
        """The value for ``row``, or ``None`` when a column it needs is empty."""
        values = {name: row.get(name) for name in self.columns()}
        if any(v is None or str(v).strip() == "" for v in values.values()):
            return self.default
        if self.column is not None:
            return str(values[self.column]).strip()
        return (self.format or "").format(**{k: str(v).strip() for k, v in values.items()})


class Template(_Spec):
    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(default="fr", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    variables: list[Annotated[Variable, BeforeValidator(_variable)]] = Field(default_factory=list)
    buttons: list[str] = Field(default_factory=list, max_length=10)


class Variant(_Spec):
    """An A/B arm: its share of the treated customers and what it changes in the template."""

    name: str = Field(pattern=r"^[A-Za-z0-9_]{1,32}$")
    share: float = Field(gt=0, le=1)
    template: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,512}$")
    language: str | None = None
    variables: list[Annotated[Variable, BeforeValidator(_variable)]] | None = None
    buttons: list[str] | None = None

    @field_validator("name")
    @classmethod
    def _not_holdout(cls, value: str) -> str:
        if value.lower() == HOLDOUT:
            raise ValueError("'holdout' is reserved for the holdout group")
        return value


class Schedule(_Spec):
    cron: str
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class QuietHoursSpec(_Spec):
    start: time
    end: time


class FrequencyCapSpec(_Spec):
    max_messages: int = Field(ge=1)
    per_days: int = Field(ge=1)


class Campaign(_Spec):
    """One campaign file."""

    id: str
    description: str = Field(min_length=1)
    enabled: bool = False
    segment: str
    category: Category
    template: Template
    variants: list[Variant] = Field(default_factory=list)
    holdout_share: float = Field(default=0.0, ge=0, le=0.5)
    schedule: Schedule
    occasion: Literal["segment_entry", "order", "day", "week"] = "segment_entry"
    order: Literal["none", "latest_open", "latest_delivered"] = "none"
    order_statuses: list[Literal[ORDER_STATUSES]] = Field(default_factory=list)  # type: ignore[valid-type]
    frequency_cap: FrequencyCapSpec | None = None
    quiet_hours: QuietHoursSpec | None = None
    valid_for_hours: int = Field(default=24, ge=1, le=24 * 14)
    owner: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not CAMPAIGN_ID.match(value):
            raise ValueError("lower-case letters, digits and '_', starting with a letter")
        return value

    @field_validator("variants")
    @classmethod
    def _split(cls, variants: list[Variant]) -> list[Variant]:
        if variants:
            total = sum(v.share for v in variants)
            if abs(total - 1.0) > 1e-6:
                raise ValueError(f"shares must add up to 1 (they add up to {total:g})")
            names = [v.name for v in variants]
            if len(set(names)) != len(names):
                raise ValueError("names must be unique")
        return variants

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        if self.occasion == "order" and self.order == "none":
            raise ValueError("occasion 'order' needs 'order: latest_open' or 'latest_delivered'")
        if self.order_statuses and self.order == "none":
            raise ValueError("order_statuses needs an 'order' scope")
        if self.frequency_cap and self.category is not Category.MARKETING:
            raise ValueError("frequency_cap applies to marketing campaigns only")
        return self

    # -- derived ---------------------------------------------------------------------------

    def variant_templates(self) -> dict[str, Template]:
        """The template each variant sends (one variant ``A`` when there is no A/B test)."""
        if not self.variants:
            return {"A": self.template}
        resolved = {}
        for v in self.variants:
            resolved[v.name] = Template(
                name=v.template or self.template.name,
                language=v.language or self.template.language,
                variables=self.template.variables if v.variables is None else v.variables,
                buttons=self.template.buttons if v.buttons is None else v.buttons,
            )
        return resolved

    def policy(self) -> SendingPolicy:
        splits = tuple(VariantSplit(v.name, v.share) for v in self.variants) or (
            VariantSplit("A", 1.0),
        )
        return SendingPolicy(
            campaign_id=self.id,
            category=self.category,
            holdout_share=self.holdout_share,
            variants=splits,
            quiet_hours=QuietHours(self.quiet_hours.start, self.quiet_hours.end)
            if self.quiet_hours
            else None,
            frequency_cap=FrequencyCap(self.frequency_cap.max_messages, self.frequency_cap.per_days)
            if self.frequency_cap
            else None,
            default_timezone=self.schedule.timezone,
        )


def cron_problem(cron: str) -> str | None:
    """What is wrong with a five-field cron expression, or ``None``."""
    fields = cron.split()
    if len(fields) != 5:
        return f"cron {cron!r} must have 5 fields (minute hour day month weekday)"
    names = ("minute", "hour", "day of month", "month", "weekday")
    for text, (low, high), name in zip(fields, _CRON_RANGES, names, strict=True):
        for part in text.split(","):
            base, _, step = part.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                return f"cron {cron!r}: bad step {step!r} in the {name} field"
            if base == "*":
                continue
            bounds = base.split("-")
            if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
                return f"cron {cron!r}: {part!r} is not a number, range or '*' ({name})"
            if not all(low <= int(b) <= high for b in bounds):
                return f"cron {cron!r}: {part!r} is outside {low}-{high} ({name})"
    return None


def _field_path(location: Iterable[object]) -> str:
    """``"template.variables.0: "``; empty for a rule across fields (its message names them)."""
    parts = [str(p) for p in location if not str(p).startswith("function-")]
    return ".".join(parts) + ": " if parts else ""


def parse_campaign_file(path: Path, segments: Iterable[str] | None = None) -> Campaign:
    """One validated campaign; raises :class:`CampaignFileError` naming file and field."""
    problems = _problems(path, segments)
    if isinstance(problems, Campaign):
        return problems
    raise CampaignFileError("\n".join(problems))


def _problems(path: Path, segments: Iterable[str] | None) -> Campaign | list[str]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        return [f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}"]
    if not isinstance(document, dict):
        return [f"{path}: the file must be a mapping of campaign fields"]
    try:
        campaign = Campaign.model_validate(document)
    except ValidationError as exc:
        return [
            f"{path}: {_field_path(e['loc'])}{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
    problems = []
    if campaign.id != path.stem:
        problems.append(f"{path}: id: {campaign.id!r} must equal the file name ({path.stem!r})")
    known = set(segments) if segments is not None else None
    if known is not None and campaign.segment not in known:
        problems.append(
            f"{path}: segment: unknown segment {campaign.segment!r} "
            f"(segment files: {', '.join(sorted(known)) or 'none'})"
        )
    return problems or campaign


def segment_names(segments_dir: Path | None) -> list[str] | None:
    """Names of the segment files the marts build (``None`` when the folder is absent)."""
    if segments_dir is None or not segments_dir.is_dir():
        return None
    return sorted(p.stem for p in segments_dir.iterdir() if p.suffix in (".yml", ".yaml"))


@dataclass(frozen=True)
class CampaignFiles:
    """The campaign files of a folder: the valid campaigns, and the problems of the others."""

    campaigns: list[Campaign]
    problems: dict[Path, list[str]]
    """Per invalid file, one line per problem (``<file>: <field>: <what is wrong>``)."""


def load_campaign_files(
    directory: Path = CAMPAIGNS_DIR, *, segments_dir: Path | None = None
) -> CampaignFiles:
    """Every campaign file in ``directory``, validated; a bad file never hides the others."""
    files = sorted(
        p for p in directory.glob("*.y*ml") if p.is_file() and not p.name.startswith((".", "_"))
    )
    known = segment_names(segments_dir)
    campaigns, problems = [], {}
    for path in files:
        result = _problems(path, known)
        if isinstance(result, Campaign):
            campaigns.append(result)
        else:
            problems[path] = result
    return CampaignFiles(campaigns, problems)


def load_campaigns(
    directory: Path = CAMPAIGNS_DIR, *, segments_dir: Path | None = None
) -> list[Campaign]:
    """Every campaign file in ``directory``, validated (all problems reported at once)."""
    loaded = load_campaign_files(directory, segments_dir=segments_dir)
    problems = [line for lines in loaded.problems.values() for line in lines]
    if problems:
        raise CampaignFileError(
            f"{len(problems)} problem(s) in campaign files:\n" + "\n".join(problems)
        )
    return loaded.campaigns
