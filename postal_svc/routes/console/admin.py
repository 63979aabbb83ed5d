"""Console area: admin (views register on console.base.blp)."""
