"""``torch.utils.tensorboard.summary``: the summary protocol buffers ``SummaryWriter`` writes, for programs that
write them themselves through ``writer.file_writer.add_summary`` (stable-baselines3's logger does with ``hparams``).
Built with tensorboardX's protocol buffers, which serialize as TensorBoard's."""
import logging

import numpy

import ember

__all__ = ["hparams"]

logger = logging.getLogger(__name__)

_EXPERIMENT_TAG, _SESSION_START_TAG, _SESSION_END_TAG = ("_hparams_/experiment", "_hparams_/session_start_info",
                                                         "_hparams_/session_end_info")


def _plugin_summary(tag, **data):
    """A Summary holding one value of the hparams plugin's ``data`` (an experiment, session start or end)."""
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    content = HParamsPluginData(version=0, **data).SerializeToString()
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="hparams", content=content))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """The three summaries TensorBoard's HParams tab reads, as PyTorch makes them: the experiment (each
    hyperparameter's type and discrete domain, the metrics' tags), the session's start (the values) and its end.
    Ints, floats and bools are numbers, strings strings, a tensor its first element; None values are left out."""
    from google.protobuf import struct_pb2
    from tensorboardX.proto.api_pb2 import DataType, Experiment, HParamInfo, MetricInfo, MetricName, Status
    from tensorboardX.proto.plugin_hparams_pb2 import SessionEndInfo, SessionStartInfo
    for name, value in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict)):
        if not isinstance(value, dict):
            logger.warning(f"parameter: {name} should be a dictionary, nothing logged.")
            raise TypeError(f"parameter: {name} should be a dictionary, nothing logged.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                            f"hparam_dict[{k}].")
    infos, start = [], SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, ember.Tensor):
            start.hparams[k].number_value = numpy.asarray(v.detach().cpu().numpy())[0]
            infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64")))
            continue
        if isinstance(v, (int, float)):   # bools too, as in PyTorch
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(v, str):
            kind, field = "DATA_TYPE_STRING", "string_value"
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        setattr(start.hparams[k], field, v)
        domain = None
        if k in hparam_domain_discrete:
            domain = struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d}) for d in hparam_domain_discrete[k]])
        infos.append(HParamInfo(name=k, type=DataType.Value(kind), domain_discrete=domain))
    experiment = Experiment(hparam_infos=infos, metric_infos=[MetricInfo(name=MetricName(tag=k)) for k in metric_dict])
    return (_plugin_summary(_EXPERIMENT_TAG, experiment=experiment),
            _plugin_summary(_SESSION_START_TAG, session_start_info=start),
            _plugin_summary(_SESSION_END_TAG, session_end_info=SessionEndInfo(status=Status.Value("STATUS_SUCCESS"))))
