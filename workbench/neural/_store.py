"""Save and load response DataArrays as netCDF (h5netcdf engine), losslessly.

netCDF cannot hold everything a DataArray can: object-dtype coordinates (mixed types,
``None``), booleans and nested or ``None`` attribute values, and it reads strings back as
``object``.  :func:`save_responses` therefore

- writes every attribute as usual where netCDF can hold it, and *all* attributes as one
  JSON document in the attribute ``workbench_attrs`` (NumPy arrays and datetimes tagged),
  which :func:`load_responses` decodes (other tools still see the plain attributes);
- writes object coordinates that are not all strings as JSON-encoded strings, and
  records every coordinate's dtype in ``workbench_coords``, so that ``<U`` strings come
  back as ``<U`` and object coordinates as the same Python values.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import numpy as np

__all__ = ["save_responses", "load_responses"]

_ATTRS_KEY = "workbench_attrs"
_COORDS_KEY = "workbench_coords"


def _to_json(value, where: str):
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray:
        # ndarray subclasses (quantities, masked arrays) would lose what makes them special.
        raise TypeError(f"attribute {where} is a {type(value).__name__}; store plain numbers (e.g. in ms) instead")
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__ndarray_object__": [_to_json(v, where) for v in value.ravel().tolist()], "shape": list(value.shape)}
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return _to_json(value.item(), where)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return {"__datetime__": value.isoformat(), "date_only": not isinstance(value, datetime.datetime)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"attribute {where} is a dict with non-str keys; netCDF/JSON cannot hold it")
        return {"__dict__": {k: _to_json(v, f"{where}.{k}") for k, v in value.items()}}
    if isinstance(value, tuple):
        return {"__tuple__": [_to_json(v, where) for v in value]}
    if isinstance(value, list):
        return [_to_json(v, where) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"attribute {where} has a value of type {type(value).__name__} that cannot be saved")


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
        if "__ndarray_object__" in value:
            arr = np.empty(len(value["__ndarray_object__"]), dtype=object)
            arr[:] = [_from_json(v) for v in value["__ndarray_object__"]]
            return arr.reshape(value["shape"])
        if "__datetime__" in value:
            if value.get("date_only"):
                return datetime.date.fromisoformat(value["__datetime__"])
            return datetime.datetime.fromisoformat(value["__datetime__"])
        if "__dict__" in value:
            return {k: _from_json(v) for k, v in value["__dict__"].items()}
        if "__tuple__" in value:
            return tuple(_from_json(v) for v in value["__tuple__"])
    return value


def _netcdf_safe(value) -> bool:
    if isinstance(value, (bool, np.bool_)) or value is None:
        return False
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return True
    if isinstance(value, np.ndarray):
        return value.ndim == 1 and value.dtype.kind in "iuf"
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) or all(isinstance(v, str) for v in value)
    return False


def save_responses(responses, path: str | Path) -> Path:
    """Write a response DataArray to a netCDF file (h5netcdf), so that :func:`load_responses` restores it exactly.

    Parameters
    ----------
    responses : xarray.DataArray
        Numeric data; any coordinates and attributes (see the module docstring).
    path : str or Path
        Output file (``.nc`` by convention); its folder must exist.

    Returns
    -------
    Path
        The written file.
    """
    import xarray as xr

    if not isinstance(responses, xr.DataArray):
        raise TypeError(f"responses must be an xarray.DataArray, got {type(responses).__name__}")
    if responses.dtype.kind not in "biuf":
        raise TypeError(f"responses must hold numbers, got dtype {responses.dtype}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"output folder does not exist: {path.parent}")
    da = responses.copy(deep=False)
    coord_info = {}
    new_coords = {}
    for key, coord in responses.coords.items():
        values = np.asarray(coord.values)
        info = {"dtype": values.dtype.str}
        if values.dtype == object:
            if all(isinstance(v, str) for v in values.ravel()):
                info["encoding"] = "str"
                new_coords[key] = (coord.dims, values.astype(str))
            else:
                info["encoding"] = "json"
                encoded = np.asarray([json.dumps(_to_json(v, f"coordinate {key}")) for v in values.ravel()], dtype=str).reshape(values.shape)
                new_coords[key] = (coord.dims, encoded)
        coord_info[key] = info
    for key, value in new_coords.items():
        da = da.assign_coords({key: value})
    for key in list(da.coords):
        da.coords[key].attrs = {}
    attrs_json = json.dumps({k: _to_json(v, repr(k)) for k, v in responses.attrs.items()})
    plain = {k: (list(v) if isinstance(v, tuple) else v) for k, v in responses.attrs.items() if isinstance(k, str) and _netcdf_safe(v) and k not in (_ATTRS_KEY, _COORDS_KEY)}
    da.attrs = {**plain, _ATTRS_KEY: attrs_json, _COORDS_KEY: json.dumps(coord_info), "workbench_name": json.dumps(responses.name)}
    da.name = "responses"
    da.to_netcdf(path, engine="h5netcdf")
    return path


def load_responses(path: str | Path):
    """Read a DataArray written by :func:`save_responses` (coordinates' dtypes and all attributes restored).

    Parameters
    ----------
    path : str or Path
        A netCDF file.

    Returns
    -------
    xarray.DataArray
        In memory (the file is closed).
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        da = xr.load_dataarray(path, engine="h5netcdf")
    except Exception as exc:
        raise ValueError(f"could not read {path} as a netCDF DataArray: {type(exc).__name__}: {exc}") from exc
    attrs = dict(da.attrs)
    if _ATTRS_KEY not in attrs:
        return da  # a netCDF file from elsewhere: as xarray reads it
    da.attrs = {k: _from_json(v) for k, v in json.loads(attrs[_ATTRS_KEY]).items()}
    da.name = json.loads(attrs.get("workbench_name", "null"))
    coord_info = json.loads(attrs.get(_COORDS_KEY, "{}"))
    for key, info in coord_info.items():
        if key not in da.coords:
            continue
        values = np.asarray(da.coords[key].values)
        dtype = np.dtype(info["dtype"])
        encoding = info.get("encoding")
        if encoding == "json":
            restored = np.empty(values.size, dtype=object)
            restored[:] = [_from_json(json.loads(v)) for v in values.ravel()]
            restored = restored.reshape(values.shape)
        elif encoding == "str":
            restored = np.empty(values.size, dtype=object)
            restored[:] = [str(v) for v in values.ravel()]
            restored = restored.reshape(values.shape)
        elif dtype.kind == "U":
            restored = values.astype(dtype)
        elif values.dtype != dtype:
            restored = values.astype(dtype)
        else:
            continue
        da = da.assign_coords({key: (da.coords[key].dims, restored)})
    for key in da.coords:
        da.coords[key].attrs = {}
    return da
