"""Console area: cash (views register on console.base.blp)."""
