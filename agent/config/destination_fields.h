// DestinationFields: the field tables of the destination sections of a flow (`kinesis`, `firehose`),
// kept apart from the rest of the schema because each destination's options grow with it.
#pragma once

#include <vector>

#include "agent/config/config.h"
#include "agent/config/schema.h"

namespace ferry::config {

const std::vector<Field<KinesisOptions>>& KinesisFields();
const std::vector<Field<FirehoseOptions>>& FirehoseFields();

}  // namespace ferry::config
