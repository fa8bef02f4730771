-- Argo CD health of a shep-operator resource (integration.egov.kz/v1alpha1: InformationSystem,
-- IntegrationService, ServiceConnection, TechWindow), from the kstatus conditions it writes:
--   the operator has not seen this generation yet  -> Progressing
--   Stalled=True        (an event the rules do not allow; a bad reference) -> Degraded
--   Suspended=True      (p.4, p.8, p.51, p.65 ...: the rules suspend it)   -> Suspended
--   InMaintenance=True  (a technological break, p.48)                      -> Progressing
--   Ready=True                                                             -> Healthy
--   otherwise           (waiting for a party's step, or for the operator)  -> Progressing
-- The message is the deciding condition's, which names the rule.
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

local function holds(c)
  return c ~= nil and c.status == "True"
end

local function say(status, c, default)
  hs.status = status
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    hs.message = c.message
  else
    hs.message = default
  end
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return say("Progressing", nil, "Waiting for shep-operator to report a status")
end
local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  return say("Progressing", nil, "Waiting for shep-operator to reconcile generation " .. tostring(generation))
end

local stalled = condition("Stalled")
if holds(stalled) then
  return say("Degraded", stalled, "Stalled")
end
local suspended = condition("Suspended")
if holds(suspended) then
  return say("Suspended", suspended, "Suspended")
end
local maintenance = condition("InMaintenance")
if holds(maintenance) then
  return say("Progressing", maintenance, "A technological break is in progress")
end
local ready = condition("Ready")
if holds(ready) then
  return say("Healthy", ready, "Ready")
end
return say("Progressing", ready, "Not ready yet")
