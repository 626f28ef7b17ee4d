"""The config file: loading, validation, secrets; every problem names file, key and fix.

The public face of the package: the loader, its errors and the value parsers other
layers use. The settings themselves are frozen values in `triage.domain.settings`.
"""

from triage.config.loader import (
    SECTIONS,
    THEMES,
    ConfigCheck,
    ConfigError,
    check_config,
    load_config,
    summary,
)
from triage.config.paths import default_cache_path, default_config_path
from triage.config.reader import Problem, hint
from triage.config.secrets import SecretError, check_secret_file, read_secret
from triage.config.values import parse_duration
from triage.domain.settings import AgencyConfig, Config, ProviderConfig, RoutingConfig

__all__ = [
    "SECTIONS",
    "THEMES",
    "AgencyConfig",
    "Config",
    "ConfigCheck",
    "ConfigError",
    "Problem",
    "ProviderConfig",
    "RoutingConfig",
    "SecretError",
    "check_config",
    "check_secret_file",
    "default_cache_path",
    "default_config_path",
    "hint",
    "load_config",
    "parse_duration",
    "read_secret",
    "summary",
]
