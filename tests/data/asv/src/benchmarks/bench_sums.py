class TimeSuite:
    params = [10, 1000]
    param_names = ["n"]

    def setup(self, n):
        self.data = list(range(n))

    def time_sum(self, n):
        sum(self.data)

    def time_sorted(self, n):
        sorted(self.data)


def time_join():
    "-".join(str(i) for i in range(100))


def mem_list():
    return [0] * 1000


def track_answer():
    return 42


def time_broken():
    raise ValueError("boom")
