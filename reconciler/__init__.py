"""reconciler: declarative VMware Cloud Director workflow runs (plan / apply, the Terraform way)."""

__version__ = "0.1.0"
