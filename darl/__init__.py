"""darl: difficulty-aware staged reinforcement learning for reasoning models (arXiv 2504.00829).

Importing the package has no side effects and loads no heavy back end; each step lives in its own module.
"""

__version__ = "0.1.0"
