"""TorchScript's singleton types (``torch.IntType.get()``, ``torch.DeviceObjType`` ...): type annotations name them
(``device: str | torch.DeviceObjType``); each has one instance, written as TorchScript writes the type."""

__all__ = ["Type", "AnyType", "BoolType", "ComplexType", "DeviceObjType", "FloatType", "IntType", "NoneType",
           "NumberType", "StringType", "StreamObjType"]


class Type:
    """A TorchScript type; each subclass has the one instance ``get()`` returns."""

    _name = "Type"
    _number = False
    __hash__ = None   # unhashable, as PyTorch's

    def __init__(self):
        raise TypeError(f"torch._C.{type(self).__name__}: No constructor defined!")

    @classmethod
    def get(cls):
        """The type's one instance."""
        instance = cls.__dict__.get("_instance")
        if instance is None:
            instance = object.__new__(cls)
            cls._instance = instance
        return instance

    def kind(self):
        """The type's class name."""
        return type(self).__name__

    def str(self):
        """The type as TorchScript's schemas write it (``Scalar`` for number)."""
        return "Scalar" if isinstance(self, NumberType) else self._name

    @property
    def annotation_str(self):
        """The type as an annotation."""
        return self._name

    def isSubtypeOf(self, other):
        """Whether a value of this type is also one of ``other`` (itself, Any, or number for int/float/complex)."""
        _check_type(other, "isSubtypeOf")
        return other is self or isinstance(other, AnyType) or (isinstance(other, NumberType) and self._number)

    def containedTypes(self):
        """The types inside this one: none for these."""
        return []

    def is_interface_type(self):
        """False: none of these is an interface."""
        return False

    def __eq__(self, other):
        _check_type(other, "__eq__")
        return self is other

    def __str__(self):
        return self._name

    __repr__ = __str__


def _check_type(other, method):
    if not isinstance(other, Type):
        raise TypeError(f"{method}(): incompatible function arguments. The following argument types are supported:\n"
                        f"    1. (self: torch._C.Type, arg0: torch._C.Type) -> bool")


def _singleton(name, shown, number=False):
    return type(name, (Type,), {"_name": shown, "_number": number, "__doc__": f"TorchScript's ``{shown}`` type."})


AnyType = _singleton("AnyType", "Any")
BoolType = _singleton("BoolType", "bool")
ComplexType = _singleton("ComplexType", "complex", True)
DeviceObjType = _singleton("DeviceObjType", "Device")
FloatType = _singleton("FloatType", "float", True)
IntType = _singleton("IntType", "int", True)
NoneType = _singleton("NoneType", "NoneType")
NumberType = _singleton("NumberType", "number", True)
StringType = _singleton("StringType", "str")
StreamObjType = _singleton("StreamObjType", "Stream")
