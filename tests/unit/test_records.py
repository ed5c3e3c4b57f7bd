"""pycodex._records: the exec-free dataclass drop-in behaves like `dataclasses.dataclass`."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import ClassVar

import pytest

from pycodex._records import FrozenInstanceError, dataclass, field, fields, replace


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    kind: ClassVar[str] = "point"


@dataclass
class Counter:
    name: str
    count: int = 0
    cache: dict[str, int] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Base:
    a: int
    b: str = "b"


@dataclass(frozen=True)
class Child(Base):
    c: float = 1.5


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    length: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self.text.strip())
        object.__setattr__(self, "length", len(self.text))


@dataclass(frozen=True, slots=True)
class Checked:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")


@dataclass(kw_only=True)
class Options:
    verbose: bool = False
    level: int = 1


def test_defaults_factories_and_class_vars() -> None:
    first, second = Point(1), Point(2, 3, ["a"])
    assert (first.x, first.y, first.tags) == (1, 0, [])
    assert (second.x, second.y, second.tags) == (2, 3, ["a"])
    assert Point(1).tags is not Point(1).tags
    assert Point.kind == "point"
    assert [f.name for f in fields(Point)] == ["x", "y", "tags"]
    assert Point.__match_args__ == ("x", "y", "tags")


def test_frozen_instances_refuse_assignment_and_slots_have_no_dict() -> None:
    point = Point(1)
    with pytest.raises(FrozenInstanceError):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del point.x
    assert not hasattr(point, "__dict__")
    assert dataclasses.FrozenInstanceError is FrozenInstanceError


def test_equality_hash_and_repr_follow_the_field_options() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(2, 1)
    assert hash(Base(1, "x")) == hash(Base(1, "x"))
    assert len({Base(1), Base(1), Base(2)}) == 2
    assert Base(1) != Child(1)
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=[])"
    counter = Counter("a")
    counter.cache["k"] = 1
    assert counter == Counter("a")
    assert repr(counter) == "Counter(name='a', count=0)"
    with pytest.raises(TypeError, match="unhashable"):
        hash(counter)  # mutable and comparable: unhashable, like dataclasses
    counter.count += 1
    assert counter.count == 1


def test_inherited_fields_come_first() -> None:
    child = Child(1, "x", 2.0)
    assert (child.a, child.b, child.c) == (1, "x", 2.0)
    assert [f.name for f in fields(child)] == ["a", "b", "c"]
    assert Child(a=3) == Child(3, "b", 1.5)


def test_post_init_and_init_false_fields() -> None:
    value = Normalised("  hi ")
    assert (value.text, value.length) == ("hi", 2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'length'"):
        Normalised("x", length=3)


def test_argument_errors_read_like_python_ones() -> None:
    with pytest.raises(TypeError, match="missing required argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'x'"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes 3 positional arguments but 4 were given"):
        Point(1, 2, [], 4)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 0 positional arguments"):
        Options(True)  # type: ignore[call-arg]
    assert Options(level=3) == Options(verbose=False, level=3)


def test_replace_copies_with_changes() -> None:
    point = Point(1, 2, ["t"])
    moved = replace(point, y=5)
    assert moved == Point(1, 5, ["t"]) and point.y == 2
    assert replace(Normalised(" a "), text=" bb ").length == 2
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        replace(point, nope=1)
    with pytest.raises(TypeError, match="dataclass type or instance"):
        fields(object())


def test_the_dataclasses_module_functions_accept_records() -> None:
    assert dataclasses.is_dataclass(Child(1))
    assert dataclasses.asdict(Child(1)) == {"a": 1, "b": "b", "c": 1.5}
    assert dataclasses.asdict(Point(1, 2, ["z"])) == {"x": 1, "y": 2, "tags": ["z"]}
    assert dataclasses.replace(Base(1), b="c") == Base(1, "c")
    assert [f.name for f in dataclasses.fields(Normalised)] == ["text", "length"]


def test_match_statements_work_positionally_and_by_keyword() -> None:
    match Point(4, 5):
        case Point(4, y):
            assert y == 5
        case _:
            pytest.fail("positional class pattern did not match")
    match Child(1, c=9.0):
        case Child(c=c):
            assert c == 9.0
        case _:
            pytest.fail("keyword class pattern did not match")


def test_unsupported_features_fail_loudly() -> None:
    with pytest.raises(TypeError, match="InitVar"):

        @dataclass
        class Bad:
            value: dataclasses.InitVar[int]


def test_frozen_slotted_records_copy_and_pickle() -> None:
    point = Point(1, 2, ["a"])
    assert copy.copy(point) == point
    deep = copy.deepcopy(point)
    assert deep == point and deep.tags is not point.tags
    assert pickle.loads(pickle.dumps(point)) == point
    assert pickle.loads(pickle.dumps(Child(2))) == Child(2)


def test_complete_calls_take_the_shortcut_with_the_same_rules() -> None:
    # Every field given, positionally or by keyword: the fast path, which must still check.
    assert Checked(1, 2) == Checked(low=1, high=2)
    with pytest.raises(ValueError, match="low above high"):
        Checked(3, 2)
    with pytest.raises(ValueError, match="low above high"):
        Checked(low=3, high=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'hi'"):
        Checked(low=1, hi=2)  # type: ignore[call-arg]
    assert Counter("a", 2, {}) == Counter(name="a", count=2, cache={})  # no slots: __dict__
    assert vars(Counter("a", 2, {})) == {"name": "a", "count": 2, "cache": {}}


@dataclass(frozen=True, slots=True)
class Marker:
    """A record without fields (like the Compact and Shutdown ops)."""


def test_records_without_fields() -> None:
    assert Marker() == Marker()
    assert hash(Marker()) == hash(Marker())
    assert repr(Marker()) == "Marker()"


def test_mutable_defaults_are_refused_like_the_standard_decorator_does() -> None:
    for default in ([], {}, set()):
        namespace = {"__annotations__": {"items": "object"}, "items": default}
        with pytest.raises(
            ValueError, match=r"Shared\.items: a mutable default .* default_factory"
        ):
            dataclass(type("Shared", (), dict(namespace)))
        with pytest.raises(ValueError, match="use default_factory"):
            dataclasses.dataclass(type("Shared", (), dict(namespace)))
    with pytest.raises(ValueError, match=r"Wrapped\.items: a mutable default \(list\)"):

        @dataclass(frozen=True, slots=True)
        class Wrapped:
            items: list[int] = field(default=[])


def test_a_field_without_default_after_one_with_default_is_refused() -> None:
    with pytest.raises(TypeError, match="field 'second' without a default follows a field"):

        @dataclass
        class Misordered:
            first: int = 0
            second: int  # type: ignore[misc]

    @dataclass(kw_only=True)
    class KeywordOnly:
        first: int = 0
        second: int

    @dataclass
    class Skipped:
        first: int = 0
        second: int = field(init=False)

    assert KeywordOnly(second=2).first == 0
    assert Skipped().first == 0


# The same classes through the standard decorator: what records must look like to `inspect`.
@dataclasses.dataclass(frozen=True)
class StdPoint:
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    kind: ClassVar[str] = "point"


@dataclasses.dataclass(kw_only=True)
class StdOptions:
    verbose: bool = False
    level: int = 1


@dataclasses.dataclass(frozen=True)
class StdNormalised:
    text: str
    length: int = dataclasses.field(default=0, init=False)


def test_signatures_are_those_of_the_standard_decorator() -> None:
    import inspect
    import pydoc

    for ours, stdlib in ((Point, StdPoint), (Options, StdOptions), (Normalised, StdNormalised)):
        assert str(inspect.signature(ours)) == str(inspect.signature(stdlib))
    assert (
        str(inspect.signature(Point))
        == "(x: 'int', y: 'int' = 0, tags: 'list[str]' = <factory>) -> None"
    )
    assert (
        str(inspect.signature(Options)) == "(*, verbose: 'bool' = False, level: 'int' = 1) -> None"
    )
    assert list(inspect.signature(Child).parameters) == ["a", "b", "c"]
    assert "Point(x: 'int', y: 'int' = 0, tags: 'list[str]' = <factory>)" in pydoc.render_doc(Point)
    with pytest.raises(AttributeError):
        Point(1).__signature__  # type: ignore[attr-defined]  # noqa: B018


@dataclass(frozen=True, slots=True)
class Derived:
    text: str
    words: tuple[str, ...] = field(init=False)
    cached: dict[str, int] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.text:
            object.__setattr__(self, "words", tuple(self.text.split()))


@dataclass
class Lazy:
    name: str
    size: int = field(init=False)


def test_init_false_fields_without_a_default_stay_unset_until_set() -> None:
    derived = Derived("a b")
    assert derived.words == ("a", "b") and derived.cached == {}
    assert [f.name for f in fields(Derived)] == ["text", "words", "cached"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'words'"):
        Derived("a", words=("b",))  # type: ignore[call-arg]
    empty = Derived("")
    with pytest.raises(AttributeError):
        empty.words  # noqa: B018
    assert pickle.loads(pickle.dumps(empty)).text == ""
    assert copy.deepcopy(derived) == derived
    lazy = Lazy("x")
    assert not hasattr(lazy, "size") and vars(lazy) == {"name": "x"}
    lazy.size = 3
    assert lazy.size == 3
    assert not hasattr(StdLazy("x"), "size")  # the standard decorator does the same


@dataclasses.dataclass
class StdLazy:
    name: str
    size: int = dataclasses.field(init=False)
