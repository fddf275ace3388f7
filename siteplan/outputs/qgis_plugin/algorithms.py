"""siteplan's Processing algorithms. Each runs siteplan in a subprocess (:mod:`.runner`): progress from
its stages, Cancel stops it, its message is the algorithm's error. Run plan loads the styled results
(the GeoPackage's layers with their ``layer_styles``, grouped as in the report) into the project."""

import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterPoint,
    QgsProcessingParameterString,
    QgsProject,
    QgsVectorFileWriter,
)

from . import runner

#: the scenario keys that hold file paths (relative to the scenario's folder)
_PATH_KEYS = (("catalogue", "path"), ("classification", "labels"))


def _fail(e: Exception) -> QgsProcessingException:
    return QgsProcessingException(str(e))


class _Base(QgsProcessingAlgorithm):
    """Shared: group, help, running siteplan with the algorithm's feedback."""

    _id = ""
    _name = ""
    _help = ""

    def name(self) -> str:
        """The provider's name (QGIS's hook)."""
        return self._id

    def displayName(self) -> str:  # noqa: N802  (QGIS's name)
        return self._name

    def group(self) -> str:
        return "siteplan"

    def groupId(self) -> str:  # noqa: N802  (QGIS's name)
        return "siteplan"

    def shortHelpString(self) -> str:  # noqa: N802  (QGIS's name)
        return self._help

    def createInstance(self) -> Any:  # noqa: N802  (QGIS's name)
        return type(self)()

    def siteplan(self, args: List[str], feedback: Any, progress: Any = None) -> str:
        try:
            return runner.run(args, feedback, progress)
        except (runner.SiteplanFailed, runner.Cancelled) as e:
            raise _fail(e) from None


class RunPlan(_Base):
    """``siteplan run`` then ``siteplan export --gpkg``: the run folder, ``plan.gpkg`` (styled) and
    ``plan.qgz``; the plan's layers are loaded into the project."""

    _id = "runplan"
    _name = "Run plan"
    _help = ("Runs a siteplan scenario (a YAML file) and writes into OUTPUT: the run folder (run/), the "
             "GeoPackage plan.gpkg with each layer's style, the suitability rasters and the QGIS project "
             "plan.qgz. The styled layers are added to the project. Optionally, vector layers open in QGIS "
             "replace the scenario's input layers of the same name (estates, businesses, roads, ...).")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802  (QGIS's name)
        """QGIS's hook: the algorithm's parameters and outputs."""
        self.addParameter(QgsProcessingParameterFile("SCENARIO", "Scenario (YAML)", extension="yaml"))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            "LAYERS", "Input layers from the project (named as the scenario's layers)",
            QgsProcessing.TypeVectorAnyGeometry, optional=True))
        self.addParameter(QgsProcessingParameterBoolean("LOAD", "Load the styled results into the project",
                                                        defaultValue=True))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Output folder"))
        self.addOutput(QgsProcessingOutputFolder("RUN_FOLDER", "Run folder"))
        self.addOutput(QgsProcessingOutputFile("GEOPACKAGE", "Styled GeoPackage"))
        self.addOutput(QgsProcessingOutputFile("PROJECT", "QGIS project"))

    def processAlgorithm(self, parameters: Dict[str, Any], context: Any, feedback: Any) -> Dict[str, Any]:  # noqa: N802 - QGIS's name
        """QGIS's hook: run the siteplan command; its outputs by name."""
        scenario = self.parameterAsFile(parameters, "SCENARIO", context)
        layers = self.parameterAsLayerList(parameters, "LAYERS", context) or []
        out = Path(self.parameterAsString(parameters, "OUTPUT", context))
        out.mkdir(parents=True, exist_ok=True)
        run_dir, gpkg = out / "run", out / "plan.gpkg"
        work = tempfile.mkdtemp(prefix="siteplan-qgis-")
        if layers:
            scenario = _with_layers(scenario, layers, Path(work), context, feedback)
        args = ["run", scenario, "--out", str(run_dir)]
        if (run_dir / "manifest.json").is_file():
            args.append("--overwrite")
        self.siteplan(args, feedback, (0, 90))
        feedback.setProgress(92)
        self.siteplan(["export", str(run_dir), "--gpkg", str(gpkg)], feedback)
        feedback.setProgress(99)
        if self.parameterAsBool(parameters, "LOAD", context):
            _load(gpkg, context, feedback)
        feedback.setProgress(100)
        return {"RUN_FOLDER": str(run_dir), "GEOPACKAGE": str(gpkg), "PROJECT": str(gpkg.with_suffix(".qgz")),
                "OUTPUT": str(out)}


def _with_layers(scenario: str, layers: List[Any], work: Path, context: Any, feedback: Any) -> str:
    """A copy of ``scenario`` in ``work`` whose input layers named like the given QGIS layers are those
    layers (written to GeoPackages in ``work``); every other path made absolute (the user's files are
    read, never written)."""
    import yaml

    src = Path(scenario).resolve()
    data = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
    specs = data.get("layers") or {}
    if not isinstance(specs, dict):
        raise QgsProcessingException(f"{src}: 'layers' is not a mapping of layer names to files")

    _absolute_paths(data, specs, src.parent)
    for lay in layers:
        key = lay.name().strip().lower()
        if key not in specs:
            raise QgsProcessingException(f"layer '{lay.name()}': the scenario has no input layer of that name "
                                         f"(it has: {', '.join(sorted(specs))}); rename the layer in QGIS")
        path = _write_layer(lay, key, work, context)
        specs[key] = {**(specs[key] if isinstance(specs[key], dict) else {}), "path": str(path), "layer": key}
        feedback.pushInfo(f"input layer '{key}': the project's layer '{lay.name()}'")
    out = work / src.name
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(out)


def _absolute_paths(data: Dict[str, Any], specs: Dict[str, Any], base: Path) -> None:
    """Every relative path of a scenario mapping (its layers' and :data:`_PATH_KEYS`) made absolute
    against ``base``, in place."""
    def absolute(p: Any) -> Any:
        return str((base / p).resolve()) if isinstance(p, str) and p and not Path(p).is_absolute() else p

    for spec in specs.values():
        if isinstance(spec, dict) and "path" in spec:
            spec["path"] = absolute(spec["path"])
    for a, b in _PATH_KEYS:
        if isinstance(data.get(a), dict) and b in data[a]:
            data[a][b] = absolute(data[a][b])
        elif a == "classification" and isinstance(data.get(a), dict) and isinstance(data[a].get(b), str):
            data[a][b] = absolute(data[a][b])


def _write_layer(lay: Any, key: str, work: Path, context: Any) -> Path:
    """A QGIS layer written to ``work/<key>.gpkg`` (layer ``key``, UTF-8) for siteplan to read."""
    path = work / f"{key}.gpkg"
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    opts.layerName = key
    opts.fileEncoding = "UTF-8"
    err = QgsVectorFileWriter.writeAsVectorFormatV3(lay, str(path), context.transformContext(), opts)
    if err[0] != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(f"layer '{lay.name()}': could not be written for siteplan: {err[1]}")
    return path


def _load(gpkg: Path, context: Any, feedback: Any) -> None:
    """Load the plan's styled layers into the project: the same layers, groups and styles as
    ``plan.qgz``, added to the open project (each layer's style from the GeoPackage's layer_styles)."""
    qgz = gpkg.with_suffix(".qgz")
    if not qgz.is_file():
        return
    target = context.project() or QgsProject.instance()
    tmp = QgsProject()
    if not tmp.read(str(qgz)):
        feedback.reportError(f"{qgz}: could not be read by QGIS", False)  # noqa: FBT003 - QGIS's signature
        return
    root = target.layerTreeRoot()
    group = root.insertGroup(0, f"siteplan: {gpkg.stem}")
    for g in tmp.layerTreeRoot().children():
        sub = group.addGroup(g.name())
        for node in g.children():
            lay = node.layer()
            if lay is None:
                continue
            clone = lay.clone()
            target.addMapLayer(clone, False)  # noqa: FBT003 - QGIS's signature (addToLegend)
            n = sub.addLayer(clone)
            n.setItemVisibilityChecked(node.isVisible())
            n.setExpanded(False)
    feedback.pushInfo(f"loaded the plan's layers into the project (group 'siteplan: {gpkg.stem}')")


class ValidateScenario(_Base):
    """``siteplan validate``: every problem of a scenario and its layers, at once."""

    _id = "validate"
    _name = "Validate scenario"
    _help = "Checks a siteplan scenario and its layers and lists every problem (or says it is valid)."

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802  (QGIS's name)
        """QGIS's hook: the algorithm's parameters and outputs."""
        self.addParameter(QgsProcessingParameterFile("SCENARIO", "Scenario (YAML)", extension="yaml"))
        self.addOutput(QgsProcessingOutputBoolean("VALID", "Valid"))
        self.addOutput(QgsProcessingOutputString("REPORT", "Report"))

    def processAlgorithm(self, parameters: Dict[str, Any], context: Any, feedback: Any) -> Dict[str, Any]:  # noqa: N802 - QGIS's name
        """QGIS's hook: run the siteplan command; its outputs by name."""
        scenario = self.parameterAsFile(parameters, "SCENARIO", context)
        try:
            text = runner.run(["validate", scenario], feedback)
            valid = True
        except runner.SiteplanFailed as e:
            text, valid = str(e), False
        except runner.Cancelled as e:
            raise _fail(e) from None
        (feedback.pushInfo if valid else lambda t: feedback.reportError(t, False))(text)  # noqa: FBT003 - QGIS's
        return {"VALID": valid, "REPORT": text}


class ExplainPlace(_Base):
    """``siteplan explain``: why a place is or is not allowed for a category, and its suitability."""

    _id = "explain"
    _name = "Explain place"
    _help = ("Explains why a place is or is not allowed for a category and how each criterion contributes "
             "to its suitability, from a scenario (computed again) or a finished run folder (at once).")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802  (QGIS's name)
        """QGIS's hook: the algorithm's parameters and outputs."""
        self.addParameter(QgsProcessingParameterFile("SOURCE", "Scenario (YAML) or run folder",
                                                     behavior=QgsProcessingParameterFile.File, optional=True))
        self.addParameter(QgsProcessingParameterFile("RUN", "Run folder (instead of a scenario)",
                                                     behavior=QgsProcessingParameterFile.Folder, optional=True))
        self.addParameter(QgsProcessingParameterString("CATEGORY", "Category code"))
        self.addParameter(QgsProcessingParameterPoint("POINT", "Place", optional=True))
        self.addParameter(QgsProcessingParameterString("ESTATE", "Estate id (instead of a place)", optional=True))
        self.addOutput(QgsProcessingOutputString("EXPLANATION", "Explanation (JSON)"))

    def processAlgorithm(self, parameters: Dict[str, Any], context: Any, feedback: Any) -> Dict[str, Any]:  # noqa: N802 - QGIS's name
        """QGIS's hook: run the siteplan command; its outputs by name."""
        source = self.parameterAsString(parameters, "RUN", context) or self.parameterAsFile(parameters, "SOURCE", context)
        if not source:
            raise QgsProcessingException("give a scenario file or a run folder")
        args = ["explain", source, "--category", self.parameterAsString(parameters, "CATEGORY", context),
                "--format", "json"]
        estate = self.parameterAsString(parameters, "ESTATE", context)
        if estate:
            args += ["--estate", estate]
        else:
            if parameters.get("POINT") in (None, ""):
                raise QgsProcessingException("give a place (a point) or an estate id")
            # the point in degrees, whatever CRS it was picked in (QGIS transforms it)
            pt = self.parameterAsPoint(parameters, "POINT", context, QgsCoordinateReferenceSystem("EPSG:4326"))
            args += ["--at", f"{pt.x():.7f},{pt.y():.7f}"]
        text = self.siteplan(args, feedback)
        try:
            feedback.pushInfo(json.dumps(json.loads(text), ensure_ascii=False, indent=1))
        except ValueError:
            feedback.pushInfo(text)
        return {"EXPLANATION": text}


class CompareRuns(_Base):
    """``siteplan compare``: what changed between two run folders."""

    _id = "compare"
    _name = "Compare runs"
    _help = ("Compares two run folders: businesses that move, land used per estate, sites and zones changed; "
             "writes the tables and compare.html into OUTPUT.")

    def initAlgorithm(self, config: Any = None) -> None:  # noqa: N802  (QGIS's name)
        """QGIS's hook: the algorithm's parameters and outputs."""
        self.addParameter(QgsProcessingParameterFile("RUN_A", "Run folder A", behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterFile("RUN_B", "Run folder B", behavior=QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterFolderDestination("OUTPUT", "Output folder"))
        self.addOutput(QgsProcessingOutputFile("HTML", "Comparison page"))

    def processAlgorithm(self, parameters: Dict[str, Any], context: Any, feedback: Any) -> Dict[str, Any]:  # noqa: N802 - QGIS's name
        """QGIS's hook: run the siteplan command; its outputs by name."""
        out = Path(self.parameterAsString(parameters, "OUTPUT", context))
        args = ["compare", self.parameterAsFile(parameters, "RUN_A", context),
                self.parameterAsFile(parameters, "RUN_B", context), "--out", str(out)]
        if (out / "compare.html").is_file():
            args.append("--overwrite")
        self.siteplan(args, feedback)
        return {"OUTPUT": str(out), "HTML": str(out / "compare.html")}
