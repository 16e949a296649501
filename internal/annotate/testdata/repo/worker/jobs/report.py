def build_report(rows):
    lines = [format_row(r) for r in rows]
    return "\n".join(lines)


def format_row(row):
    return "row %d: %s" % (row, totl)
