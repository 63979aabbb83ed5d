"""Console area: reports (views register on console.base.blp)."""
