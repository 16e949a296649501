from jobs.report import build_report


def main():
    print(build_report([1, 2, 3]))


if __name__ == "__main__":
    main()
