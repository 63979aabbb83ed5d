"""Console area: plans (views register on console.base.blp)."""
