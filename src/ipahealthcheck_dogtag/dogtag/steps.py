"""A fix as data: ordered steps, each labelled with what it does to the
service. Plain Python, so that the catalog of findings (and the commands
that only read JSON) need no LDAP library."""

# What a step does to the service, weakest first: the strongest effect of
# a fix is its `fix_effect`.
READS = 'reads'
MANUAL = 'manual'
WRITES = 'writes-directory'
RESTARTS = 'restarts-service'
EFFECTS = (READS, MANUAL, WRITES, RESTARTS)


class Step:
    """One action: its text (usually one quoted command), what it does to
    the service and, for a restart, which systemd unit goes down.

    `when` names the condition under which to take it; `instead` marks an
    alternative to the step before it rather than a next step."""

    def __init__(self, do, effect, service=None, outage=None, when=None,
                 instead=False):
        assert effect in EFFECTS
        assert (effect == RESTARTS) == (service is not None)
        self.do = do
        self.effect = effect
        self.service = service
        self.outage = outage
        self.when = when
        self.instead = instead

    def text(self):
        text = self.do if not self.when else '%s: %s' % (self.when, self.do)
        if self.effect == RESTARTS:
            text += ' (%s)' % (self.outage or 'an outage of %s'
                               % self.service)
        return text

    def as_dict(self):
        return {'do': self.text(), 'effect': self.effect,
                'service': self.service, 'alternative': self.instead}


class Fix:
    """Steps to take in order. `str()` is the public `fix` string."""

    def __init__(self, *steps):
        self.steps = []
        for step in steps:
            self.steps += step.steps if isinstance(step, Fix) else [step]

    def __add__(self, other):
        return Fix(self, other)

    def __str__(self):
        out = ''
        for step in self.steps:
            if out:
                out += ', or instead ' if step.instead else ', then '
            out += step.text()
        return out

    def __contains__(self, text):
        return text in str(self)

    @property
    def effect(self):
        return max((s.effect for s in self.steps), key=EFFECTS.index,
                   default=MANUAL)

    def fields(self):
        """The result fields: `fix` (text), `fix_steps`, `fix_effect`."""
        return {'fix': str(self),
                'fix_steps': [s.as_dict() for s in self.steps],
                'fix_effect': self.effect}


def alternative(fix, when, instead=True):
    """`fix` as an alternative to what comes before it (or, with
    instead=False, as what to do next only `when`)."""
    first, rest = fix.steps[0], fix.steps[1:]
    head = Step(first.do, first.effect, first.service, first.outage,
                when or first.when, instead=instead)
    return Fix(head, *rest)


def reads(text, **kw):
    return Step(text, READS, **kw)


def manual(text, **kw):
    return Step(text, MANUAL, **kw)


def writes(text, **kw):
    return Step(text, WRITES, **kw)
